// How a gallery row travels in a Drive file's metadata: the infotext in `description`, and the
// row's own fields in `appProperties` (private to this OAuth client), so that restore can rebuild
// the exact row: id, created_at, favorite, file path, generation fields. Drive limits a property to
// 124 bytes of key + value (https://developers.google.com/drive/api/guides/properties); a value too
// long (a long model name) is left out and restore takes it from the infotext instead.
import { createHash } from 'node:crypto';
import { parseInfotext } from '../infotext/parse-infotext.js';
import type { ImageRecord, ImportedImageRecord } from '../gallery/gallery-store.js';

export const PROPERTY_MAX_BYTES = 124;
/** The key that makes uploads idempotent: the gallery id. */
export const EASEL_ID = 'easel_id';
/** Set to '1' on the Drive copy of an image deleted in Easel; restore skips such files. */
export const EASEL_DELETED = 'easel_deleted';
/**
 * Put before the Drive name of a copy whose image was deleted in Easel: app properties are
 * invisible in Drive's web UI, and the name is what lets a user find those copies and purge them.
 */
export const DELETED_NAME_PREFIX = 'deleted-';

/** The name a deleted image's Drive copy gets (unchanged when it already has the prefix). */
export function deletedName(name: string): string {
  return name.startsWith(DELETED_NAME_PREFIX) ? name : `${DELETED_NAME_PREFIX}${name}`;
}

/** The favourite flag as app properties carry it. */
export const favoriteValue = (favorite: boolean): '1' | '0' => (favorite ? '1' : '0');

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Two digits, for the MM and DD folder names. */
const two = (n: number): string => String(n).padStart(2, '0');

/** The backup folder path of an image: [YYYY, MM, DD] in UTC, like the gallery's day folders. */
export function datePath(createdAt: string): [string, string, string] {
  const d = new Date(createdAt);
  return [String(d.getUTCFullYear()), two(d.getUTCMonth() + 1), two(d.getUTCDate())];
}

/** The Drive metadata of one gallery image. */
export function toAppProperties(record: ImageRecord, sha256: string): Record<string, string> {
  const all: Record<string, string> = {
    [EASEL_ID]: record.id,
    easel_sha256: sha256,
    created_at: String(Date.parse(record.created_at)),
    favorite: favoriteValue(record.favorite),
    file: record.file,
    task: record.task,
    seed: String(record.seed),
    width: String(record.width),
    height: String(record.height),
    steps: String(record.steps),
    cfg_scale: String(record.cfg_scale),
    sampler: record.sampler,
    scheduler: record.scheduler,
    model: record.model,
    ...(record.job_id ? { job_id: record.job_id } : {}),
  };
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => Buffer.byteLength(k + v, 'utf8') <= PROPERTY_MAX_BYTES));
}

const num = (raw: string | undefined, fallback: number): number => {
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) ? n : fallback;
};

/**
 * The gallery row a backed-up file stands for; undefined when it is not an Easel upload.
 * Prompts come from the infotext (they have no room in app properties), the rest from the properties.
 */
export function fromDriveMetadata(props: Record<string, string>, description: string): ImportedImageRecord | undefined {
  const id = props[EASEL_ID];
  const createdAt = Number(props['created_at']);
  const file = props['file'];
  if (!id || !file || !Number.isSafeInteger(createdAt)) return undefined;
  const p = parseInfotext(description);
  return {
    id,
    job_id: props['job_id'] ?? null,
    created_at: createdAt,
    favorite: props['favorite'] === '1',
    file,
    infotext: description,
    task: props['task'] ?? 'txt2img',
    prompt: p.prompt,
    negative_prompt: p.negative_prompt,
    model: props['model'] ?? p.model ?? '',
    width: num(props['width'], 0),
    height: num(props['height'], 0),
    seed: num(props['seed'], p.seed ?? 0),
    steps: num(props['steps'], p.steps ?? 0),
    cfg_scale: num(props['cfg_scale'], p.cfg_scale ?? 0),
    sampler: props['sampler'] ?? p.sampler ?? '',
    scheduler: props['scheduler'] ?? p.scheduler,
  };
}

// The server's half of an `upscale` job: the worker gets the source image's bytes (read from the
// gallery when the request named an image_id), and the result is saved like A1111's Extras tab
// saves it — the source's infotext kept as `parameters`, the upscale fields added in the
// `postprocessing` / `extras` chunks, and a gallery row that carries the source's prompt and
// settings with task `upscale`.
import { readFile } from 'node:fs/promises';
import { isPng, parseInfotext, readPngTextChunks } from '../infotext/index.js';
import { withUpscaleChunks, type UpscaleInfo } from '../infotext/postprocess-info.js';
import type { GalleryStore, NewImageMeta } from '../gallery/gallery-store.js';
import { EaselError } from '../protocol/errors.js';
import type { WorkerImage } from '../../native/worker-protocol.js';
import type { Job } from './job.js';

export interface UpscaleSource {
  png: Uint8Array;
  /** The source's A1111 infotext, when it had one. */
  infotext: string | undefined;
  /** The gallery row of the source, when it came from the gallery. */
  imageId: string | undefined;
}

/** The source image of an upscale job (gallery file or uploaded bytes) and its infotext. */
export async function upscaleSource(job: Job, gallery: Pick<GalleryStore, 'get' | 'filePath'>): Promise<UpscaleSource> {
  const p = job.params;
  if (typeof p.image_id === 'string') {
    const record = gallery.get(p.image_id);
    const path = gallery.filePath(p.image_id);
    if (!record || !path) throw new EaselError('not_found', `no image ${p.image_id} (deleted before the upscale ran?)`, { field: 'image_id' });
    const png = new Uint8Array(await readFile(path));
    return { png, infotext: record.infotext || undefined, imageId: p.image_id };
  }
  if (p.image instanceof Uint8Array) {
    let infotext: string | undefined;
    try {
      infotext = isPng(p.image) ? readPngTextChunks(p.image).parameters : undefined;
    } catch {
      infotext = undefined;
    }
    return { png: p.image, infotext, imageId: undefined };
  }
  throw new EaselError('invalid_params', 'upscale needs image_id or image', { field: 'image_id' });
}

/** What the worker runs: the job's parameters with the source bytes in `image`. */
export async function upscaleWorkerParams(job: Job, gallery: Pick<GalleryStore, 'get' | 'filePath'>): Promise<Record<string, unknown>> {
  const { image_id: _id, ...rest } = job.params;
  const source = await upscaleSource(job, gallery);
  return { ...rest, image: source.png };
}

function upscaleInfo(job: Job, info: Record<string, unknown>): UpscaleInfo {
  const name = typeof info.upscaler === 'string' ? info.upscaler : String(job.params.upscaler);
  const to = info.upscale_to;
  if (Array.isArray(to) && typeof to[0] === 'number' && typeof to[1] === 'number') return { upscaler: name, width: to[0], height: to[1] };
  const by = typeof info.upscale_by === 'number' ? info.upscale_by : typeof job.params.scale === 'number' ? job.params.scale : undefined;
  return { upscaler: name, ...(by === undefined ? {} : { scale: by }) };
}

/** The PNG to store (source infotext + extras chunks), its infotext and its gallery row. */
export async function upscaleResult(
  job: Job,
  image: WorkerImage,
  info: Record<string, unknown>,
  gallery: Pick<GalleryStore, 'get' | 'filePath'>,
): Promise<{ png: Buffer; infotext: string; meta: NewImageMeta; beside?: { file: string; suffix: string } }> {
  const source = await upscaleSource(job, gallery).catch(() => undefined);
  const infotext = source?.infotext ?? '';
  const png = withUpscaleChunks(image.png, infotext || undefined, upscaleInfo(job, info));
  const record = source?.imageId ? gallery.get(source.imageId) : undefined;
  let parsed: ReturnType<typeof parseInfotext> | undefined;
  if (!record && infotext) {
    try {
      parsed = parseInfotext(infotext);
    } catch {
      parsed = undefined;
    }
  }
  const meta: NewImageMeta = {
    job_id: job.id,
    task: 'upscale',
    prompt: record?.prompt ?? parsed?.prompt ?? '',
    negative_prompt: record?.negative_prompt ?? parsed?.negative_prompt ?? '',
    model: record?.model ?? parsed?.model ?? '',
    width: image.width,
    height: image.height,
    seed: record?.seed ?? parsed?.seed ?? -1,
    steps: record?.steps ?? parsed?.steps ?? 0,
    cfg_scale: record?.cfg_scale ?? parsed?.cfg_scale ?? 0,
    sampler: record?.sampler ?? parsed?.sampler ?? '',
    scheduler: record?.scheduler ?? parsed?.scheduler ?? '',
  };
  // Saved next to its source (same folder, `<source>-upscale.png`) when the source is in the gallery.
  return { png, infotext, meta, ...(record ? { beside: { file: record.file, suffix: 'upscale' } } : {}) };
}

// The gallery's files on disk: where outputs and thumbnails live, names that are safe, paths that
// cannot leave their folder, atomic writes (temp file in the same folder + fsync + rename) and
// WebP thumbnails made with sharp (which works on libuv's thread pool, off the main thread).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { EaselError } from '../protocol/errors.js';

export const THUMB_MAX_SIDE = 256;
const THUMB_QUALITY = 80;
const MAX_FILE_NAME_CHARS = 120;
/** Temp files are hidden and end in `.tmp` so a crash leaves something reconcile can recognise. */
export const TEMP_SUFFIX = '.tmp';
export const IMAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A stored image path relative to outputs/: plain names in at most a few plain folders. */
const RELATIVE_FILE_PATTERN = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\/){0,3}[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** 16 random bytes, base64url: short, URL-safe, unguessable, never derived from a file name. */
export function newImageId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A file name made of `[A-Za-z0-9._-]` only, without leading dots, bounded in length.
 *
 * @example sanitizeFileName('../a b:c.png') // 'a_b_c.png'
 */
export function sanitizeFileName(name: string): string {
  const cleaned = basename(name.replace(/\\/g, '/'))
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '')
    .slice(-MAX_FILE_NAME_CHARS);
  return cleaned === '' ? 'file' : cleaned;
}

/** `root/...parts`, refusing any result outside `root` (after resolving `..` and absolute parts). */
export function confinedPath(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const full = resolve(base, ...parts);
  if (full !== base && !full.startsWith(base + sep)) {
    throw new EaselError('forbidden', `path escapes its folder: ${parts.join('/')}`);
  }
  return full;
}

/** Checks a stored relative image path (`2026-01-02/1700000000000-42.png`). */
export function isSafeRelativeFile(file: string): boolean {
  return !isAbsolute(file) && RELATIVE_FILE_PATTERN.test(file) && !file.split('/').some((s) => s === '..' || s === '.');
}

/** `YYYY-MM-DD` of a UTC timestamp: the outputs folder of an image made then. */
export function dayFolder(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/**
 * Writes `data` to `file` so that readers see either nothing or the whole file: a hidden temp file
 * in the same folder, fsync, then rename over the target. The temp file is removed on failure.
 */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlinkQuiet(tmp);
    throw err;
  }
  await syncDir(dir);
}

/** fsync of the folder makes the rename itself durable; not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open folders for fsync; the rename is still atomic there.
  }
}

/** Removes a file; a file that is already gone is not an error. */
export async function unlinkQuiet(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** WebP thumbnail, at most THUMB_MAX_SIDE on the long side, never enlarged. */
export async function makeThumbnail(image: Uint8Array): Promise<Buffer> {
  return sharp(image)
    .resize(THUMB_MAX_SIDE, THUMB_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: THUMB_QUALITY })
    .toBuffer();
}

// How many bytes a download may still write: the free space of the models folder's file system
// minus a safety margin, and, when a quota is configured (DOWNLOAD_QUOTA_BYTES), no more than
// what the quota leaves after the models already there.
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { EaselError } from '../../protocol/errors.js';

/** Left free on the disk so a download never fills it to the last byte (the database and logs live there too). */
export const DEFAULT_DISK_MARGIN_BYTES = 512 * 1024 * 1024;

async function folderBytes(dir: string, depth = 0): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth < 6) total += await folderBytes(p, depth + 1);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export interface SpaceOptions {
  modelsDir: string;
  /** The most bytes `$MODELS_DIR` may hold in total (0 or undefined = no quota). */
  quotaBytes?: number | undefined;
  marginBytes?: number | undefined;
}

/** Bytes a new download may use now. */
export async function availableBytes(opts: SpaceOptions): Promise<number> {
  const fs = await statfs(opts.modelsDir);
  let free = Number(fs.bavail) * Number(fs.bsize) - (opts.marginBytes ?? DEFAULT_DISK_MARGIN_BYTES);
  if (opts.quotaBytes) free = Math.min(free, opts.quotaBytes - (await folderBytes(opts.modelsDir)));
  return Math.max(0, free);
}

/** Throws `insufficient_space` when `needed` bytes do not fit. */
export async function requireSpace(needed: number, opts: SpaceOptions): Promise<number> {
  const free = await availableBytes(opts);
  if (needed > free) {
    throw new EaselError('insufficient_space', `not enough room for the download: it needs ${needed} bytes, ${free} are available${opts.quotaBytes ? ' under DOWNLOAD_QUOTA_BYTES' : ''}`);
  }
  return free;
}

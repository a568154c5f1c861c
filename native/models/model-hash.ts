// A1111's model hashes: "AutoV2" = the first 10 hex of the file's sha256 (infotext `Model hash`).
// Hashing a 2 GB checkpoint takes seconds, so results are cached per path, size and mtime.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

const cache = new Map<string, string>();

/** Full sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  cache.set(key, hex);
  return hex;
}

/** A1111 `Model hash` (AutoV2 short hash): sha256 of the file, first 10 hex digits. */
export async function modelShortHash(path: string): Promise<string> {
  return (await sha256File(path)).slice(0, 10);
}

/**
 * A1111's old `sd_models.model_hash` (ControlNet model names `stem [hash8]`): the first 8 hex of
 * the sha256 of the 64 KiB at offset 0x100000 (an empty read, `e3b0c442`, for files under 1 MiB).
 */
export async function legacyModelHash(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(0x10000);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0x100000);
    return createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex').slice(0, 8);
  } finally {
    await fh.close();
  }
}

// A1111's model hashes: "AutoV2" = the first 10 hex of the file's sha256 (infotext `Model hash`).
// Hashing a 2 GB checkpoint takes seconds, so results are cached per path, size and mtime.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

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

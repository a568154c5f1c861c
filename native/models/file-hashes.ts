// The hashes A1111 and Civitai know a model by, computed in one read of the file: the full sha256
// (`Model hash` = its first 10 hex, "AutoV2") and, for .safetensors, the kohya "addnet" sha256 of
// the bytes after the header (Civitai "AutoV3"), whose first 12 hex are A1111's `Lora hashes`
// value (extensions-builtin/Lora/network.py; see docs COMPAT.md §1.5).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export interface FileHashes {
  sha256: string;
  /** sha256 of the data after the safetensors header; null for other formats or a broken header. */
  addnetSha256: string | null;
}

/** 8 + header length of a .safetensors file, or undefined when the prefix does not fit the file. */
export async function safetensorsDataStart(path: string): Promise<number | undefined> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size < 8) return undefined;
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const n = prefix.readBigUInt64LE(0);
    return n > BigInt(size - 8) ? undefined : 8 + Number(n);
  } finally {
    await handle.close();
  }
}

/**
 * Both hashes of a model file in one pass.
 *
 * @example const { sha256, addnetSha256 } = await hashModelFile('models/loras/detail.safetensors')
 */
export async function hashModelFile(path: string): Promise<FileHashes> {
  const dataStart = path.toLowerCase().endsWith('.safetensors') ? await safetensorsDataStart(path) : undefined;
  const full = createHash('sha256');
  const addnet = dataStart === undefined ? undefined : createHash('sha256');
  let pos = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    const buf = chunk as Buffer;
    full.update(buf);
    if (addnet && pos + buf.length > dataStart!) addnet.update(buf.subarray(Math.max(0, dataStart! - pos)));
    pos += buf.length;
  }
  return { sha256: full.digest('hex'), addnetSha256: addnet ? addnet.digest('hex') : null };
}

/**
 * A1111's LoRA short hash (12 hex) from the file's hashes: `sshs_model_hash` from the metadata
 * when the trainer wrote one, else the addnet hash for .safetensors, else the plain sha256.
 */
export function loraShortHashOf(hashes: FileHashes, declaredHash?: string): string {
  if (declaredHash && /^[0-9a-f]{12,}$/i.test(declaredHash)) return declaredHash.slice(0, 12).toLowerCase();
  return (hashes.addnetSha256 ?? hashes.sha256).slice(0, 12);
}

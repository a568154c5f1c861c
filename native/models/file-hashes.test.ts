import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../io/safetensors.js';
import { hashModelFile, loraShortHashOf } from './file-hashes.js';
import { loraAddnetHash } from '../lora/lora-file.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('hashModelFile', () => {
  it('gives the file sha256 and the addnet sha256 of the bytes after the header', async () => {
    const path = join(dir, 'l.safetensors');
    // Over one read chunk (4 MiB), so the header/data split and chunk boundaries both matter.
    const big = new Float32Array(1_200_000).map((_, i) => Math.sin(i));
    await writeSafetensors(path, { w: { dtype: 'F32', shape: [big.length], data: big } }, { ss_output_name: 'x' });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    const h = await hashModelFile(path);
    expect(h.sha256).toBe(sha(bytes));
    expect(h.addnetSha256).toBe(sha(bytes.subarray(8 + n)));
    expect(h.addnetSha256).not.toBe(h.sha256);
    // The metadata is in the header, so the addnet hash ignores it (why A1111 uses it for LoRAs).
    const path2 = join(dir, 'l2.safetensors');
    await writeSafetensors(path2, { w: { dtype: 'F32', shape: [big.length], data: big } }, { ss_output_name: 'renamed' });
    expect((await hashModelFile(path2)).addnetSha256).toBe(h.addnetSha256);
    expect(await loraAddnetHash(path)).toBe(h.addnetSha256);
  });

  it('has no addnet hash for other formats; the LoRA short hash then uses sha256, and sshs_model_hash wins', async () => {
    const path = join(dir, 'l.pt');
    writeFileSync(path, 'not a pickle');
    const h = await hashModelFile(path);
    expect(h).toEqual({ sha256: sha(Buffer.from('not a pickle')), addnetSha256: null });
    expect(loraShortHashOf(h)).toBe(h.sha256.slice(0, 12));
    expect(loraShortHashOf(h, 'ABCDEF0123456789')).toBe('abcdef012345');
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelShortHash, sha256File } from './model-hash.js';

describe('model hashes', () => {
  it('is the sha256 of the whole file, short form 10 hex', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'easel-hash-'));
    const file = join(dir, 'm.safetensors');
    const bytes = Buffer.alloc(5 << 20, 7); // spans several read chunks
    bytes[123456] = 1;
    writeFileSync(file, bytes);
    const want = createHash('sha256').update(bytes).digest('hex');
    expect(await sha256File(file)).toBe(want);
    expect(await modelShortHash(file)).toBe(want.slice(0, 10));
  });
});

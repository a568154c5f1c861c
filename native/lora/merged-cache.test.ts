import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryWeightSource } from '../runtime/weights.js';
import type { LoraNetwork } from './lora-file.js';
import { appliedLora } from './lora-merge.js';
import { MergedLoraCache } from './merged-cache.js';
import { seededValues } from './test/make-lora.js';

const KEY = 'model.diffusion_model.input_blocks.1.1.proj_in.weight';
const base = memoryWeightSource({ [KEY]: { shape: [64, 64], data: seededValues(1, 64 * 64) } });

function network(seed: number): LoraNetwork {
  const up = { shape: [64, 2], data: seededValues(seed, 128) }, down = { shape: [2, 64], data: seededValues(seed + 1, 128) };
  return { path: `n${seed}`, name: `n${seed}`, modules: new Map([[KEY, { moduleName: 'm', module: { weights: { kind: 'lora', up, down }, alpha: 2 } }]]), skipped: [], metadata: {} };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'easel-merge-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('MergedLoraCache', () => {
  it('creates its folder only when it merges, and reads merged tensors back from it', async () => {
    const cacheDir = join(dir, 'cache');
    const cache = new MergedLoraCache({ dir: cacheDir });
    expect(existsSync(cacheDir)).toBe(false);
    const v = await cache.variant(base, 'ck', 'unet', [appliedLora(network(10), 'h10', 1)]);
    expect(cache.merges).toBe(1);
    const merged = await v!.source.readFloat32(KEY);
    const original = await base.readFloat32(KEY);
    expect(merged.some((x, i) => Math.abs(x - original[i]) > 1e-3)).toBe(true);
    await cache.close();
  });

  it('keeps the folder under maxBytes, evicting the least recently used set', async () => {
    const fileBytes = 64 * 64 * 4 + 200;
    const cache = new MergedLoraCache({ dir, maxBytes: 2 * fileBytes + 100 });
    const set = (s: number) => [appliedLora(network(s), `h${s}`, 1)];
    const a = await cache.variant(base, 'ck', 'unet', set(1));
    await cache.variant(base, 'ck', 'unet', set(3));
    await cache.close(); // nothing open: every file may go
    await cache.variant(base, 'ck', 'unet', set(5));
    expect(cache.merges).toBe(3);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.startsWith(a!.id))).toBe(false);
    // The evicted set is merged again; a kept one is not.
    await cache.variant(base, 'ck', 'unet', set(5));
    expect(cache.merges).toBe(3);
    await cache.variant(base, 'ck', 'unet', set(1));
    expect(cache.merges).toBe(4);
    await cache.close();
  });

  it('ids depend on checkpoint, part and multiplier, not on the order of the set', async () => {
    const cache = new MergedLoraCache({ dir });
    const n1 = network(1), n2 = network(3);
    const id = (ck: string, w: number, order: 'ab' | 'ba') =>
      cache.variantId(ck, 'unet', order === 'ab' ? [appliedLora(n1, 'a', w), appliedLora(n2, 'b', 1)] : [appliedLora(n2, 'b', 1), appliedLora(n1, 'a', w)]);
    expect(id('ck', 1, 'ab')).toBe(id('ck', 1, 'ba'));
    expect(id('ck', 1, 'ab')).not.toBe(id('ck', 0.5, 'ab'));
    expect(id('ck', 1, 'ab')).not.toBe(id('other', 1, 'ab'));
    expect(cache.variantId('ck', 'textEncoder', [appliedLora(n1, 'a', 1)])).toBeUndefined();
  });
});

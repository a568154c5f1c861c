import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { openCheckpoint } from './checkpoint.js';
import { SD1_TINY_CONFIG } from './config.js';
import { SCHEDULE_BUFFER_NAMES } from './ddpm-schedule.js';
import { SeededRandom, initRule, writeRandomCheckpoint, writeTinyCheckpoint } from './random-checkpoint.js';
import { sd1KeySpec } from './key-spec.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-random-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stats(a: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}

describe('writeTinyCheckpoint', () => {
  it('writes an sd1 checkpoint with the fixture key set, shapes, dtypes and schedule', async () => {
    const path = join(dir, 'tiny.safetensors');
    await writeTinyCheckpoint(path, { seed: 7 });
    const ckpt = await openCheckpoint(path);
    const fixture = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
    try {
      expect(ckpt.family).toBe('sd1');
      expect(ckpt.config).toEqual(SD1_TINY_CONFIG);
      expect(ckpt.metadata['sd_tiny.config']).toBeDefined();
      expect([...ckpt.keys()].sort()).toEqual([...fixture.keys()].sort());
      for (const key of fixture.keys()) {
        expect(ckpt.shape(key), key).toEqual(fixture.info(key)!.shape);
        expect(ckpt.dtype(key), key).toBe(fixture.info(key)!.dtype);
      }
      for (const name of SCHEDULE_BUFFER_NAMES) expect(await ckpt.readFloat32(name)).toEqual(await fixture.readFloat32(name));
      const ids = await ckpt.readFloat32('cond_stage_model.transformer.text_model.embeddings.position_ids');
      expect([...ids]).toEqual(Array.from({ length: 77 }, (_, i) => i));

      // the README's init rules, checked on tensors large enough for stable statistics
      const tok = stats(await ckpt.readFloat32('cond_stage_model.transformer.text_model.embeddings.token_embedding.weight'));
      expect(tok.mean).toBeCloseTo(0, 2);
      expect(tok.std).toBeCloseTo(0.3, 2);
      const convKey = 'model.diffusion_model.middle_block.0.in_layers.2.weight'; // [128, 128, 3, 3]
      const conv = stats(await ckpt.readFloat32(convKey));
      expect(conv.std).toBeGreaterThan((1 / Math.sqrt(128 * 9)) * 0.95);
      expect(conv.std).toBeLessThan((1 / Math.sqrt(128 * 9)) * 1.05);
      const normW = stats(await ckpt.readFloat32('model.diffusion_model.output_blocks.0.0.in_layers.0.weight')); // [256]
      expect(normW.mean).toBeGreaterThan(0.97);
      expect(normW.mean).toBeLessThan(1.03);
      const bias = await ckpt.readFloat32('model.diffusion_model.out.2.bias');
      expect(bias.every((v) => v !== 0)).toBe(true);
    } finally {
      await ckpt.close();
      await fixture.close();
    }
  });

  it('is deterministic per seed and differs between seeds', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `${n}.safetensors`));
    // the VAE part alone keeps this quick; the generator is the same for every tensor
    const specs = sd1KeySpec(SD1_TINY_CONFIG).filter((s) => s.key.startsWith('first_stage_model.'));
    await writeRandomCheckpoint(a, specs, { seed: 1 });
    await writeRandomCheckpoint(b, specs, { seed: 1 });
    await writeRandomCheckpoint(c, specs, { seed: 2 });
    const [ba, bb, bc] = await Promise.all([a, b, c].map((p) => readFile(p)));
    expect(ba.equals(bb)).toBe(true);
    expect(ba.equals(bc)).toBe(false);
    expect(ba.length).toBe(bc.length);
  });

  it('makes the 9-channel inpainting UNet and F16 storage on request', async () => {
    const path = join(dir, 'inpaint.safetensors');
    await writeTinyCheckpoint(path, { seed: 3, inpainting: true, dtype: 'F16' });
    const ckpt = await openCheckpoint(path);
    try {
      expect(ckpt.config.unet.in_channels).toBe(9);
      expect(ckpt.shape('model.diffusion_model.input_blocks.0.0.weight')).toEqual([32, 9, 3, 3]);
      expect(ckpt.dtype('model.diffusion_model.out.2.weight')).toBe('F16');
      expect(ckpt.dtype('alphas_cumprod')).toBe('F32');
      expect(ckpt.dtype('cond_stage_model.transformer.text_model.embeddings.position_ids')).toBe('I64');
    } finally {
      await ckpt.close();
    }
  });
});

describe('SeededRandom and initRule', () => {
  it('draws standard normals', () => {
    const rng = new SeededRandom(123);
    const a = Float32Array.from({ length: 200_000 }, () => rng.normal());
    const s = stats(a);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.01);
    expect(new SeededRandom(123).nextU32()).toBe(new SeededRandom(123).nextU32());
    expect(new SeededRandom(123).nextU32()).not.toBe(new SeededRandom(124).nextU32());
  });

  it('classifies tensors by name and rank', () => {
    expect(initRule({ key: 'x.norm.weight', shape: [8], dtype: 'F32' })).toEqual({ mean: 1, std: 0.1 });
    expect(initRule({ key: 'x.proj.bias', shape: [8], dtype: 'F32' })).toEqual({ mean: 0, std: 0.1 });
    expect(initRule({ key: 'e.token_embedding.weight', shape: [10, 8], dtype: 'F32' })).toEqual({ mean: 0, std: 0.3 });
    expect(initRule({ key: 'c.weight', shape: [4, 2, 3, 3], dtype: 'F32' })).toEqual({ mean: 0, std: 1 / Math.sqrt(18) });
  });
});

// generate() with A1111's img2img `initial_noise_multiplier` on the tiny checkpoint: 1.0 (and unset)
// is byte-identical to the pipeline without it, other values change the image and write
// `Noise multiplier` after the inpaint keys; txt2img ignores it.
// The formula itself (init + f32(noise·m)·σ) is checked bit for bit in
// native/sampling/test/noise-multiplier.test.ts.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sd1TinyPath } from '../testing/fixtures.js';
import { generate } from './generate.js';
import { loadEngine, type Engine } from './engine.js';
import type { GenerateRequest } from './types.js';

let engine: Engine;
let image: Uint8Array;
let mask: Uint8Array;

const base: GenerateRequest = {
  task: 'img2img',
  prompt: 'a red car',
  negative_prompt: '',
  width: 64,
  height: 64,
  steps: 4,
  cfg_scale: 7,
  sampler: 'euler',
  scheduler: 'automatic',
  seed: 42,
  batch_size: 1,
  n_iter: 1,
  rng: 'cpu',
  clip_skip: 1,
  strength: 0.6,
};

beforeAll(async () => {
  engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer') });
  const px = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 251;
  image = new Uint8Array(await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
  const m = Buffer.alloc(64 * 64);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) m[y * 64 + x] = 255;
  mask = new Uint8Array(await sharp(m, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer());
});
afterAll(async () => {
  await engine?.dispose();
});

const bytes = (r: Awaited<ReturnType<typeof generate>>) => Buffer.from(r.images[0].rgb.data);

describe('initial_noise_multiplier in generate', () => {
  it('img2img: 1.0 is byte-identical to unset, 0.5 differs and is written as `Noise multiplier: 0.5`', async () => {
    const req = { ...base, image };
    const unset = await generate(engine, req);
    const one = await generate(engine, { ...req, initial_noise_multiplier: 1 });
    const half = await generate(engine, { ...req, initial_noise_multiplier: 0.5 });
    expect(bytes(one).equals(bytes(unset))).toBe(true);
    expect(one.params.extra).toEqual(unset.params.extra);
    expect(unset.params.extra.some(([k]) => k === 'Noise multiplier')).toBe(false);
    expect(bytes(half).equals(bytes(unset))).toBe(false);
    expect(half.params.extra).toContainEqual(['Noise multiplier', '0.5']);
  });

  it('inpaint: the key follows the inpaint keys; a whole number is written as a Python float', async () => {
    const out = await generate(engine, { ...base, task: 'inpaint', image, mask, mask_blur: 4, inpaint_full_res: true, inpaint_full_res_padding: 8, initial_noise_multiplier: 2 });
    expect(out.params.extra.map(([k]) => k)).toEqual(['Mask blur', 'Inpaint area', 'Masked area padding', 'Noise multiplier']);
    expect(out.params.extra.at(-1)).toEqual(['Noise multiplier', '2.0']);
  });

  it('txt2img ignores it (A1111 has no txt2img multiplier)', async () => {
    const req: GenerateRequest = { ...base, task: 'txt2img' };
    const a = await generate(engine, req);
    const b = await generate(engine, { ...req, initial_noise_multiplier: 0.5 });
    expect(bytes(b).equals(bytes(a))).toBe(true);
    expect(b.params.extra).toEqual([]);
  });
});

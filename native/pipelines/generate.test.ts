// Pipeline behaviour on the fixture's tiny checkpoint (txt2img numerics against A1111 are in
// scripts/generate.e2e.test.ts): img2img start steps, inpainting keeps unmasked pixels, sizes that
// are multiples of 8 but not 64, batches, previews, cancel, and 9-channel inpainting checkpoints.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../models/random-checkpoint.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { generate } from './generate.js';
import { loadEngine, type Engine } from './engine.js';
import type { GenerateRequest } from './types.js';

let engine: Engine;

const base: GenerateRequest = {
  task: 'txt2img',
  prompt: 'a red car',
  negative_prompt: 'blurry',
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
};

async function gradientPng(w: number, h: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 255) / w, (y * 255) / h, 128], (y * w + x) * 3);
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

async function rectMaskPng(w: number, h: number, x1: number, y1: number, x2: number, y2: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) px[y * w + x] = 255;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

async function rgbOf(png: Buffer): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

beforeAll(async () => {
  engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer') });
});
afterAll(async () => {
  await engine?.dispose();
});

describe('txt2img', () => {
  it('is deterministic per seed, reports every step and gives seed+i to batch images', async () => {
    const steps: number[] = [];
    const a = await generate(engine, { ...base, batch_size: 2 }, { onProgress: (s, t) => steps.push(s * 100 + t) });
    expect(steps).toEqual([104, 204, 304, 404]);
    expect(a.images.map((i) => i.seed)).toEqual([42, 43]);
    const single = await generate(engine, { ...base, seed: 43 });
    // Batched UNet calls sum in another order: allow ±1 on a few values.
    let off = 0;
    a.images[1]!.rgb.data.forEach((v, i) => (off += Math.abs(v - single.images[0]!.rgb.data[i]!) > 1 ? 1 : 0));
    expect(off).toBe(0);
    expect(Buffer.compare(Buffer.from(a.images[0]!.rgb.data), Buffer.from(a.images[1]!.rgb.data))).not.toBe(0);
  });

  it('runs sizes that are multiples of 8 but not of 64, and reports a random seed for -1', async () => {
    const r = await generate(engine, { ...base, width: 72, height: 40, seed: -1, steps: 2 });
    expect(r.images[0]!.rgb.width).toBe(72);
    expect(r.images[0]!.rgb.height).toBe(40);
    expect(r.params.seed).toBeGreaterThanOrEqual(0);
    expect(r.params.seed).toBeLessThan(4294967294);
    expect(r.images[0]!.seed).toBe(r.params.seed);
  });

  it('sends a JPEG preview every N steps and n_iter batches count into the progress total', async () => {
    const previews: number[] = [];
    const totals = new Set<number>();
    await generate(engine, { ...base, n_iter: 2, steps: 4 }, {
      previewEvery: 2,
      onPreview: (step, jpeg) => {
        expect(jpeg[0]).toBe(0xff);
        expect(jpeg[1]).toBe(0xd8);
        previews.push(step);
      },
      onProgress: (_s, t) => totals.add(t),
    });
    expect(previews).toEqual([2, 6]);
    expect([...totals]).toEqual([8]);
  });

  it('stops within one step when cancelled', async () => {
    const controller = new AbortController();
    let seen = 0;
    await expect(
      generate(engine, { ...base, steps: 20 }, {
        signal: controller.signal,
        onProgress: (s) => {
          seen = s;
          if (s === 2) controller.abort();
        },
      }),
    ).rejects.toThrow(/cancel/);
    expect(seen).toBe(2);
  });

  it('refuses LoRA tags it cannot resolve instead of ignoring them', async () => {
    await expect(generate(engine, { ...base, prompt: 'a cat <lora:detail:0.8>' })).rejects.toMatchObject({ code: 'lora_not_found', message: expect.stringContaining('detail') as string });
  });
});

describe('img2img', () => {
  it('runs floor(strength·steps)+1 steps and is deterministic', async () => {
    const image = await gradientPng(64, 64);
    const seen: number[] = [];
    const r1 = await generate(engine, { ...base, task: 'img2img', image, strength: 0.5, steps: 10 }, { onProgress: (_s, t) => seen.push(t) });
    expect(seen[0]).toBe(6);
    expect(seen.length).toBe(6);
    const r2 = await generate(engine, { ...base, task: 'img2img', image, strength: 0.5, steps: 10 });
    expect(Buffer.from(r1.images[0]!.rgb.data).equals(Buffer.from(r2.images[0]!.rgb.data))).toBe(true);
    expect(r1.params.denoising_strength).toBe(0.5);
  });

  it('resizes the init image to the requested size', async () => {
    const r = await generate(engine, { ...base, task: 'img2img', image: await gradientPng(100, 50), strength: 0.3, width: 64, height: 32, steps: 3 });
    expect([r.images[0]!.rgb.width, r.images[0]!.rgb.height]).toEqual([64, 32]);
  });
});

describe('inpaint', () => {
  it('"only masked" with padding 0 changes pixels only near the mask and keeps the original size', async () => {
    const W = 96, H = 80;
    const image = await gradientPng(W, H);
    const mask = await rectMaskPng(W, H, 40, 30, 56, 46);
    const r = await generate(engine, {
      ...base,
      task: 'inpaint',
      image,
      mask,
      strength: 0.9,
      steps: 4,
      mask_blur: 2,
      inpaint_full_res: true,
      inpaint_full_res_padding: 0,
    });
    const out = r.images[0]!.rgb;
    expect([out.width, out.height]).toEqual([W, H]);
    const orig = await rgbOf(image);
    // Mask blur 2 reaches 2·int(2.5·2+0.5)/2 = 5 px beyond the rectangle.
    const reach = 6;
    let changedInside = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const near = x >= 40 - reach && x < 56 + reach && y >= 30 - reach && y < 46 + reach;
        for (let c = 0; c < 3; c++) {
          const i = (y * W + x) * 3 + c;
          if (!near) expect(out.data[i], `pixel ${x},${y}`).toBe(orig[i]);
          else if (out.data[i] !== orig[i]) changedInside++;
        }
      }
    }
    expect(changedInside).toBeGreaterThan(100);
    expect(r.params.extra).toEqual([
      ['Mask blur', 2],
      ['Inpaint area', 'Only masked'],
      ['Masked area padding', 0],
    ]);
  });

  it('whole-picture inpainting with latent noise keeps pixels far from the mask', async () => {
    const image = await gradientPng(64, 64);
    const mask = await rectMaskPng(64, 64, 0, 0, 24, 24);
    const r = await generate(engine, { ...base, task: 'inpaint', image, mask, strength: 1, steps: 3, mask_blur: 0, inpainting_fill: 'latent_noise' });
    const orig = await rgbOf(image);
    for (let y = 32; y < 64; y++) for (let x = 32; x < 64; x++) for (let c = 0; c < 3; c++) {
      expect(r.images[0]!.rgb.data[(y * 64 + x) * 3 + c]).toBe(orig[(y * 64 + x) * 3 + c]);
    }
    expect(r.params.extra).toContainEqual(['Masked content', 'latent noise']);
  });

  it('rejects an empty mask for "only masked"', async () => {
    await expect(
      generate(engine, { ...base, task: 'inpaint', image: await gradientPng(64, 64), mask: await rectMaskPng(64, 64, 0, 0, 0, 0), inpaint_full_res: true }),
    ).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('9-channel inpainting checkpoints', () => {
  it('feed mask and masked-image latents to the UNet and still keep unmasked pixels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'easel-inpaint-'));
    const file = join(dir, 'tiny-inpainting.safetensors');
    await writeTinyCheckpoint(file, { seed: 3, inpainting: true });
    const inpainting = await loadEngine(file, { tokenizerDir: sd1TinyPath('tokenizer') });
    try {
      expect(inpainting.config.unet.in_channels).toBe(9);
      const image = await gradientPng(64, 64);
      const mask = await rectMaskPng(64, 64, 8, 8, 24, 24);
      const r = await generate(inpainting, { ...base, task: 'inpaint', image, mask, strength: 1, steps: 2, mask_blur: 0 });
      const orig = await rgbOf(image);
      expect(r.images[0]!.rgb.data[(60 * 64 + 60) * 3]).toBe(orig[(60 * 64 + 60) * 3]);
      const t2i = await generate(inpainting, { ...base, steps: 2 });
      expect(t2i.images[0]!.rgb.width).toBe(64);
    } finally {
      await inpainting.dispose();
    }
  }, 240_000);
});

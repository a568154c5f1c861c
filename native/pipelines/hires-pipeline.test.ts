// Hires fix inside the pipeline on the fixture's tiny checkpoint (numerics against A1111 are in
// scripts/generate-hires.e2e.test.ts): batches keep A1111's per-image seeds, progress counts both
// passes over n_iter, save_first_pass orders the images, a cancel in the second pass stops it,
// and bad hires input is refused before anything runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sd1TinyPath } from '../testing/fixtures.js';
import { generate } from './generate.js';
import { loadEngine, type Engine } from './engine.js';
import type { GenerateRequest } from './types.js';

let engine: Engine;

const base: GenerateRequest = {
  task: 'txt2img', prompt: 'a red car', negative_prompt: 'blurry', width: 64, height: 64, steps: 2, cfg_scale: 7,
  sampler: 'euler', scheduler: 'automatic', seed: 42, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1,
  hires: { enabled: true, scale: 1.5, upscaler: 'Latent (bicubic)', steps: 2, denoising_strength: 0.5 },
};

function offByMoreThanOne(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 1) n++;
  return n / a.length;
}

beforeAll(async () => {
  engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer') });
}, 60_000);
afterAll(async () => engine?.dispose());

describe('hires fix in generate()', () => {
  it('a batch of two gives each seed the image it gives alone; progress counts both passes', async () => {
    const steps: [number, number][] = [];
    const batch = await generate(engine, { ...base, batch_size: 2 }, { onProgress: (s, t) => steps.push([s, t]) });
    expect(steps.map(([s]) => s)).toEqual([1, 2, 3, 4]);
    expect(steps.every(([, t]) => t === 4)).toBe(true);
    expect(batch.images.map((i) => [i.seed, i.rgb.width, i.rgb.height])).toEqual([[42, 96, 96], [43, 96, 96]]);
    const alone = await generate(engine, { ...base, seed: 43 });
    expect(offByMoreThanOne(batch.images[1]!.rgb.data, alone.images[0]!.rgb.data)).toBeLessThanOrEqual(0.01);
    expect(batch.params).toMatchObject({ width: 64, height: 64, denoising_strength: 0.5, hires: { width: 96, height: 96 } });
    expect(batch.params.extra).toEqual([['Hires upscale', '1.5'], ['Hires steps', 2], ['Hires upscaler', 'Latent (bicubic)']]);
  }, 120_000);

  it('save_first_pass returns the first pass before its final image, over n_iter', async () => {
    const steps: number[] = [];
    const r = await generate(engine, { ...base, n_iter: 2, hires: { ...base.hires!, save_first_pass: true } }, { onProgress: (s, t) => steps.push(t) });
    expect(r.images.map((i) => [i.seed, i.rgb.width, i.firstPass === true])).toEqual([[42, 64, true], [42, 96, false], [43, 64, true], [43, 96, false]]);
    expect(new Set(steps)).toEqual(new Set([8]));
  }, 120_000);

  it('stops within a step of the second pass when cancelled', async () => {
    const ctl = new AbortController();
    let last = 0;
    const run = generate(engine, { ...base, hires: { ...base.hires!, steps: 100 } }, {
      signal: ctl.signal,
      onProgress: (s) => {
        last = s;
        if (s === 4) ctl.abort();
      },
    });
    await expect(run).rejects.toThrow(/cancel/);
    expect(last).toBeLessThanOrEqual(5);
  }, 120_000);

  it('refuses hires on img2img, an unknown upscaler, and LoRAs that differ in the hires prompt', async () => {
    await expect(generate(engine, { ...base, task: 'img2img', image: new Uint8Array(8) })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(generate(engine, { ...base, hires: { ...base.hires!, upscaler: 'nope' } })).rejects.toMatchObject({ code: 'upscaler_not_found' });
    await expect(generate(engine, { ...base, hires: { ...base.hires!, prompt: 'a car <lora:x:1>' } })).rejects.toMatchObject({ code: 'bad_input' });
  }, 60_000);
});

// A1111's img2img `initial_noise_multiplier` (processing.py StableDiffusionProcessingImg2Img.sample:
// `x = rng.next(); if m != 1.0: x *= m`, then the sampler starts from init + x·σ_start, or for DDIM
// init·√ᾱ + x·√(1−ᾱ)). A stand-in UNet that predicts zero noise leaves Euler's x unchanged, so the
// result IS the initial latent and is compared bit for bit with that formula in float32.
import { describe, expect, it } from 'vitest';
import { runSampling, type RunSamplingOptions } from '../run.js';
import { plainCfgImages } from '../cfg.js';
import type { UNetEpsFn } from '../denoiser.js';
import { ddimTimesteps, getSigmas, img2imgSigmas, modelScheduleFromAlphasCumprod } from '../schedules.js';
import { TorchCpuGenerator } from '../rng-torch-cpu.js';
import { SafetensorsFile } from '../../io/safetensors.js';
import { sd1TinyPath } from '../../testing/fixtures.js';

const PER = 4 * 8 * 8;
const CTX = 32;
const f32 = Math.fround;
const ckpt = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
const alphasCumprod = await ckpt.readFloat32('alphas_cumprod');
await ckpt.close();
const schedule = modelScheduleFromAlphasCumprod(alphasCumprod);
const init = Float32Array.from({ length: PER }, (_, k) => Math.sin(k) * 0.8);
const cond = { data: new Float32Array(77 * CTX).fill(0.1), tokens: 77 };

function run(sampler: 'euler' | 'ddim', noiseMultiplier: number | undefined, firstInput: Float32Array[] = []) {
  const unet: UNetEpsFn = async (x) => {
    if (firstInput.length === 0) firstInput.push(x.slice(0, PER));
    return new Float32Array(x.length);
  };
  const opts: RunSamplingOptions = {
    sampler,
    scheduler: 'automatic',
    steps: 10,
    schedule,
    cfg: { unet, images: plainCfgImages(cond, cond, 1), cfgScale: 7, contextDim: CTX, h: 8, w: 8 },
    seeds: [1234],
    rng: 'cpu',
    img2img: { initLatent: init, strength: 0.5, noiseMultiplier },
  };
  return runSampling(opts);
}

describe('initial_noise_multiplier', () => {
  const noise = new TorchCpuGenerator(1234).randn(PER);

  it('Euler starts from init + f32(noise·m)·σ_start, bit for bit', async () => {
    const s0 = img2imgSigmas(getSigmas('euler', 'automatic', 10, schedule), 0.5)[0];
    for (const m of [0.5, 1.25]) {
      const { samples } = await run('euler', m);
      const want = Float32Array.from(init, (v, k) => v + f32(f32(noise[k] * f32(m)) * s0));
      expect(Buffer.from(samples.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it('1.0 and unset are the same run, and differ from 0.5 by exactly the noise term', async () => {
    const unset = (await run('euler', undefined)).samples;
    const one = (await run('euler', 1)).samples;
    const half = (await run('euler', 0.5)).samples;
    expect(Buffer.from(one.buffer).equals(Buffer.from(unset.buffer))).toBe(true);
    const s0 = img2imgSigmas(getSigmas('euler', 'automatic', 10, schedule), 0.5)[0];
    // (x₁ − init) = 2·(x½ − init) up to float32 rounding of the sums
    for (let k = 0; k < PER; k++) expect(one[k] - init[k]).toBeCloseTo(2 * (half[k] - init[k]), 4);
    expect(Math.abs(one[0] - init[0] - noise[0] * s0)).toBeLessThan(1e-5);
  });

  it('DDIM noises the init latent with the scaled noise: init·√ᾱ + f32(noise·m)·√(1−ᾱ)', async () => {
    const first: Float32Array[] = [];
    await run('ddim', 0.75, first);
    const ts = ddimTimesteps(10, alphasCumprod.length);
    const a = alphasCumprod[ts[Math.trunc(0.5 * 10)]];
    const sa = f32(Math.sqrt(a)), sb = f32(Math.sqrt(f32(1 - a)));
    const want = Float32Array.from(init, (v, k) => f32(v * sa) + f32(f32(noise[k] * f32(0.75)) * sb));
    expect(Buffer.from(first[0].buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('does not touch txt2img', async () => {
    const unet: UNetEpsFn = async (x) => new Float32Array(x.length);
    const base = { sampler: 'euler' as const, scheduler: 'automatic' as const, steps: 4, schedule, cfg: { unet, images: plainCfgImages(cond, cond, 1), cfgScale: 7, contextDim: CTX, h: 8, w: 8 }, seeds: [7], rng: 'cpu' as const };
    const s0 = getSigmas('euler', 'automatic', 4, schedule)[0];
    const { samples } = await runSampling(base);
    const n = new TorchCpuGenerator(7).randn(PER);
    expect(samples[3]).toBe(f32(n[3] * s0));
  });
});

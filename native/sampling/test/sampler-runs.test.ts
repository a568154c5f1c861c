// Drives every single-model-call sampler through the sd1-tiny reference runs: the denoiser returns
// the stored CFG-combined denoised tensor of each step, the noise comes from our torch CPU
// generator, and every x handed to the step callback, the final samples and the generator draws
// are compared with A1111's (fixture README §9, tolerance 1e-3 × max |x|).
import { describe, expect, it } from 'vitest';
import { TorchCpuGenerator } from '../rng-torch-cpu.js';
import { ddimTimesteps, getSigmas, modelScheduleFromAlphasCumprod } from '../schedules.js';
import { findScheduler, resolveSampler } from '../names.js';
import { samplerById } from '../registry.js';
import { sampleDdim } from '../samplers/ddim.js';
import { heun } from '../samplers/heun.js';
import { decodedToUint8 } from '../image.js';
import { SafetensorsFile } from '../../io/safetensors.js';
import { sd1TinyPath } from '../../testing/fixtures.js';
import { maxAbs, maxAbsDiff, readTensors, row, samplerRuns, type Tensor } from './fixture-data.js';

const LATENT = 4 * 8 * 8;
const RNG_TOL = 2e-6;
const tensors = await readTensors('samplers.safetensors');
const runs = samplerRuns();
const ckpt = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
const alphasCumprod = await ckpt.readFloat32('alphas_cumprod');
await ckpt.close();
const schedule = modelScheduleFromAlphasCumprod(alphasCumprod);

function get(run: string, what: string): Tensor {
  const t = tensors.get(`${run}.${what}`);
  if (!t) throw new Error(`samplers.safetensors has no ${run}.${what}`);
  return t;
}

function expectLatentClose(got: Float32Array, want: Float32Array, what: string): void {
  const tol = 1e-3 * maxAbs(want);
  expect(maxAbsDiff(got, want), `${what} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

/** A generator that records what the sampler drew, after the initial noise. */
function recordingNoise(seed: number): { initial: Float32Array; draw: () => Float32Array; draws: Float32Array[] } {
  const g = new TorchCpuGenerator(seed);
  const initial = g.randn(LATENT);
  const draws: Float32Array[] = [];
  return {
    initial,
    draws,
    draw: () => {
      const d = g.randn(LATENT);
      draws.push(d);
      return d;
    },
  };
}

const SINGLE_CALL = ['euler', 'euler_long_prompt', 'euler_a_cpu_rng', 'lms', 'dpmpp_2m_normal', 'dpmpp_2m_uniform', 'dpmpp_2m_karras'];

describe('sampler runs of samplers.safetensors, driven by the stored denoised tensors', () => {
  it('covers every run of cases.json except Heun (two calls per step)', () => {
    expect([...SINGLE_CALL, 'ddim', 'heun'].sort()).toEqual(runs.map((r) => r.name).sort());
  });

  for (const name of SINGLE_CALL) {
    const run = runs.find((r) => r.name === name)!;
    it(`${name}: initial noise, every step's x, the samples and the generator draws`, async () => {
      const sampler = samplerById(resolveSampler(run.sampler)!.sampler.id);
      const sigmas = getSigmas(sampler.id, findScheduler(run.scheduler)!.id, run.steps, schedule);
      const rng = recordingNoise(run.seed);
      expect(maxAbsDiff(rng.initial, get(name, 'initial_noise').data)).toBeLessThan(RNG_TOL);

      const denoisedPerStep = get(name, 'denoised_per_step');
      const x0 = rng.initial.map((v) => v * sigmas[0]);
      const seen: Float32Array[] = [];
      const calls: number[] = [];
      if (sampler.kind !== 'sigmas') throw new Error('expected a k-diffusion sampler');
      const samples = await sampler.sampler.sample({
        x: x0,
        sigmas,
        denoise: async (_x, _sigma, callIndex) => {
          calls.push(callIndex);
          return row(denoisedPerStep, callIndex);
        },
        noise: rng.draw,
        onStep: (s) => seen.push(s.x),
      });

      expect(calls).toEqual(Array.from({ length: run.steps }, (_, i) => i));
      const xPerStep = get(name, 'x_per_step');
      expect(seen.length).toBe(run.steps);
      seen.forEach((x, i) => expectLatentClose(x, row(xPerStep, i), `x_per_step[${i}]`));
      expectLatentClose(samples, get(name, 'samples').data, 'samples');

      expect(rng.draws.length).toBe(run.n_rng_draws_during_sampling);
      if (run.n_rng_draws_during_sampling > 0) {
        const stored = get(name, 'rng_draws_during_sampling');
        rng.draws.forEach((d, i) => expect(maxAbsDiff(d, row(stored, i))).toBeLessThan(RNG_TOL));
      }
    });
  }

  it('heun: the first step from the stored denoised, the initial x and all five generator draws', async () => {
    // Heun's second model call per step is not stored, so only what precedes it can be compared.
    const run = runs.find((r) => r.name === 'heun')!;
    const sigmas = getSigmas('heun', 'automatic', run.steps, schedule);
    const rng = recordingNoise(run.seed);
    const denoisedPerStep = get('heun', 'denoised_per_step');
    const seen: Float32Array[] = [];
    const calls: number[] = [];
    await heun.sample({
      x: rng.initial.map((v) => v * sigmas[0]),
      sigmas,
      denoise: async (_x, _s, callIndex) => {
        calls.push(callIndex);
        return row(denoisedPerStep, 0);
      },
      noise: rng.draw,
      onStep: (s) => seen.push(s.x),
    });
    expect(calls.length).toBe(2 * run.steps - 1);
    expectLatentClose(seen[0], row(get('heun', 'x_per_step'), 0), 'x_per_step[0]');
    const stored = get('heun', 'rng_draws_during_sampling');
    expect(rng.draws.length).toBe(run.n_rng_draws_during_sampling);
    rng.draws.forEach((d, i) => expect(maxAbsDiff(d, row(stored, i))).toBeLessThan(RNG_TOL));
  });

  it('ddim: A1111 timesteps arithmetic, step by step, from the stored pred_x0', async () => {
    const run = runs.find((r) => r.name === 'ddim')!;
    const ts = ddimTimesteps(run.steps);
    expect(Array.from(ts)).toEqual(run.timesteps);
    const rng = recordingNoise(run.seed);
    expect(maxAbsDiff(rng.initial, get('ddim', 'initial_noise').data)).toBeLessThan(RNG_TOL);
    const predX0 = get('ddim', 'denoised_per_step');
    const xPerStep = get('ddim', 'x_per_step');
    const seenT: number[] = [];
    const seen: Float32Array[] = [];
    const samples = await sampleDdim({
      x: rng.initial,
      timesteps: ts,
      alphasCumprod,
      // The fixture stores pred_x0; the eps that produced it follows from the x the sampler passes:
      // e = (x − sqrt(a)·pred_x0) / sqrt(1 − a), in float64.
      eps: async (x, t, callIndex) => {
        seenT.push(t);
        const a = alphasCumprod[t];
        const p = row(predX0, callIndex);
        return Float32Array.from(x, (v, k) => (v - Math.sqrt(a) * p[k]) / Math.sqrt(1 - a));
      },
      noise: rng.draw,
      onStep: (s) => seen.push(s.x),
    });
    expect(seenT).toEqual([997, 831, 665, 499, 333, 167]);
    seen.forEach((x, i) => expectLatentClose(x, row(xPerStep, i), `x_per_step[${i}]`));
    expectLatentClose(samples, get('ddim', 'samples').data, 'samples');
    expect(rng.draws.length).toBe(run.n_rng_draws_during_sampling);
    const stored = get('ddim', 'rng_draws_during_sampling');
    rng.draws.forEach((d, i) => expect(maxAbsDiff(d, row(stored, i))).toBeLessThan(RNG_TOL));
  });

  for (const run of runs) {
    it(`${run.name}: decoded image → PNG bytes with A1111's float32 multiply and truncation`, () => {
      const decoded = get(run.name, 'decoded'); // [1,3,64,64]
      const png = get(run.name, 'png_uint8'); // [64,64,3]
      const got = decodedToUint8(decoded.data, { batch: 1, height: 64, width: 64 });
      expect(got.length).toBe(png.data.length);
      let mismatches = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== png.data[i]) mismatches++;
      expect(mismatches).toBe(0);
    });
  }
});

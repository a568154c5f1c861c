// runSampling end to end against the sd1-tiny reference runs: a stand-in UNet returns, for both
// CFG rows, the eps that makes D equal the stored denoised tensor of the step, so what is checked is
// everything around the model — seeds and initial noise, x·c_in, timesteps, the schedule, the
// batching rule, guidance, the sampler and its generator draws.
import { describe, expect, it } from 'vitest';
import { runSampling } from '../run.js';
import { plainCfgImages } from '../cfg.js';
import type { UNetEpsFn } from '../denoiser.js';
import { findScheduler, resolveSampler } from '../names.js';
import { modelScheduleFromAlphasCumprod, tToSigma } from '../schedules.js';
import { TorchCpuGenerator } from '../rng-torch-cpu.js';
import { SafetensorsFile } from '../../io/safetensors.js';
import { sd1TinyPath } from '../../testing/fixtures.js';
import { maxAbs, maxAbsDiff, readTensors, row, samplerRuns } from './fixture-data.js';

const PER = 4 * 8 * 8;
const CTX = 32;
const tensors = await readTensors('samplers.safetensors');
const ckpt = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
const alphasCumprod = await ckpt.readFloat32('alphas_cumprod');
await ckpt.close();
const schedule = modelScheduleFromAlphasCumprod(alphasCumprod);
const runs = samplerRuns();
const t = (name: string): Float32Array => tensors.get(name)!.data;

describe('runSampling reproduces the reference runs around a stand-in UNet', () => {
  for (const name of ['euler', 'euler_a_cpu_rng', 'lms', 'dpmpp_2m_karras', 'dpmpp_2m_normal']) {
    it(name, async () => {
      const run = runs.find((r) => r.name === name)!;
      const denoised = tensors.get(`${name}.denoised_per_step`)!;
      const inputs: Float32Array[] = [];
      let call = 0;
      const unet: UNetEpsFn = async (xIn, tIn, _ctx, dims) => {
        expect(dims).toEqual({ batch: 2, h: 8, w: 8, tokens: 77 });
        inputs.push(xIn.slice(0, PER));
        const sigma = tToSigma(schedule, tIn[0]);
        const cIn = 1 / Math.sqrt(sigma * sigma + 1);
        const target = row(denoised, call++);
        const eps = new Float32Array(xIn.length);
        for (let r = 0; r < 2; r++) for (let k = 0; k < PER; k++) eps[r * PER + k] = (xIn[r * PER + k] / cIn - target[k]) / sigma;
        return eps;
      };
      const { samples, sigmas } = await runSampling({
        sampler: resolveSampler(run.sampler)!.sampler.id,
        scheduler: findScheduler(run.scheduler)!.id,
        steps: run.steps,
        schedule,
        cfg: { unet, images: plainCfgImages({ data: t(`${name}.cond`), tokens: 77 }, { data: t(`${name}.uncond`), tokens: 77 }, 1), cfgScale: run.cfg_scale, contextDim: CTX, h: 8, w: 8 },
        seeds: [run.seed],
        rng: 'cpu',
      });
      expect(call).toBe(run.steps);
      // The first UNet input is the seed's noise · σ0 · c_in.
      const s0 = sigmas![0];
      const noise = new TorchCpuGenerator(run.seed).randn(PER);
      expect(maxAbsDiff(inputs[0], Array.from(noise, (v) => (v * s0) / Math.sqrt(s0 * s0 + 1)))).toBeLessThan(1e-5);
      const want = t(`${name}.samples`);
      // The stand-in inverts D through tToSigma(sigmaToT(σ)), which adds ~1e-6 relative error per step.
      expect(maxAbsDiff(samples, want)).toBeLessThanOrEqual(1e-3 * maxAbs(want));
    });
  }

  it('ddim: x unscaled, timesteps 997 … 167, guidance on eps', async () => {
    const run = runs.find((r) => r.name === 'ddim')!;
    const predX0 = tensors.get('ddim.denoised_per_step')!;
    const seenT: number[] = [];
    const firstX: Float32Array[] = [];
    let call = 0;
    const unet: UNetEpsFn = async (xIn, tIn) => {
      seenT.push(tIn[0]);
      if (call === 0) firstX.push(xIn.slice(0, PER));
      const a = alphasCumprod[tIn[0]];
      const p = row(predX0, call++);
      return Float32Array.from(xIn, (v, k) => (v - Math.sqrt(a) * p[k % PER]) / Math.sqrt(1 - a));
    };
    const { samples, timesteps } = await runSampling({
      sampler: 'ddim',
      scheduler: 'automatic',
      steps: run.steps,
      schedule,
      cfg: { unet, images: plainCfgImages({ data: t('ddim.cond'), tokens: 77 }, { data: t('ddim.uncond'), tokens: 77 }, 1), cfgScale: 7, contextDim: CTX, h: 8, w: 8 },
      seeds: [run.seed],
      rng: 'cpu',
    });
    expect(Array.from(timesteps!)).toEqual(run.timesteps);
    expect(seenT).toEqual([997, 831, 665, 499, 333, 167]);
    expect(maxAbsDiff(firstX[0], t('ddim.initial_noise'))).toBeLessThan(2e-6);
    expect(maxAbsDiff(samples, t('ddim.samples'))).toBeLessThanOrEqual(1e-3 * maxAbs(t('ddim.samples')));
  });
});

describe('runSampling wiring', () => {
  const zeroEps: UNetEpsFn = async (x) => new Float32Array(x.length);
  const cond = { data: new Float32Array(77 * 4), tokens: 77 };
  const cfg = { unet: zeroEps, images: plainCfgImages(cond, cond, 2), cfgScale: 7, contextDim: 4, h: 4, w: 4 };

  it('runs the SDE samplers with a Brownian tree per image seed', async () => {
    for (const sampler of ['dpmpp_sde', 'dpmpp_2m_sde'] as const) {
      const a = await runSampling({ sampler, scheduler: 'automatic', steps: 4, schedule, cfg, seeds: [1, 2], rng: 'nv' });
      const b = await runSampling({ sampler, scheduler: 'automatic', steps: 4, schedule, cfg, seeds: [1, 2], rng: 'nv' });
      expect(Array.from(a.samples)).toEqual(Array.from(b.samples));
      expect(a.samples.every(Number.isFinite)).toBe(true);
    }
  });

  it('img2img starts from init + noise·σ at the strength cut', async () => {
    const inputs: Float32Array[] = [];
    const unet: UNetEpsFn = async (x) => {
      inputs.push(x.slice(0, 64));
      return new Float32Array(x.length);
    };
    const init = Float32Array.from({ length: 128 }, (_, k) => k / 100);
    const res = await runSampling({
      sampler: 'euler',
      scheduler: 'karras',
      steps: 10,
      schedule,
      cfg: { ...cfg, unet },
      seeds: [5, 6],
      rng: 'cpu',
      img2img: { initLatent: init, strength: 0.5 },
    });
    expect(res.sigmas!.length).toBe(7); // t_enc 5 → 6 steps
    expect(inputs.length).toBe(6);
    const s = res.sigmas![0];
    const noise = new TorchCpuGenerator(5).randn(64);
    const cIn = 1 / Math.sqrt(s * s + 1);
    expect(maxAbsDiff(inputs[0], Array.from(noise, (v, k) => (init[k] + v * s) * cIn))).toBeLessThan(1e-5);
  });

  it('DDIM img2img noises the init latent to ts[t_enc] and runs ts[:t_enc] (A1111)', async () => {
    const seen: { t: number; x: Float32Array }[] = [];
    const unet: UNetEpsFn = async (x, tIn) => {
      seen.push({ t: tIn[0], x: x.slice(0, 64) });
      return new Float32Array(x.length);
    };
    const init = Float32Array.from({ length: 128 }, (_, k) => k / 100);
    const res = await runSampling({
      sampler: 'ddim',
      scheduler: 'automatic',
      steps: 10,
      schedule,
      cfg: { ...cfg, unet },
      seeds: [5, 6],
      rng: 'cpu',
      img2img: { initLatent: init, strength: 0.5 },
    });
    expect(Array.from(res.timesteps!)).toEqual([1, 101, 201, 301, 401]);
    expect(seen.map((s) => s.t)).toEqual([401, 301, 201, 101]);
    const a = alphasCumprod[501];
    const noise = new TorchCpuGenerator(5).randn(64);
    expect(maxAbsDiff(seen[0].x, Array.from(noise, (v, k) => init[k] * Math.sqrt(a) + v * Math.sqrt(1 - a)))).toBeLessThan(1e-5);
  });

  it('needs one seed per image', async () => {
    await expect(runSampling({ sampler: 'euler', scheduler: 'automatic', steps: 2, schedule, cfg, seeds: [1], rng: 'cpu' })).rejects.toMatchObject({
      code: 'bad_shape',
    });
  });
});

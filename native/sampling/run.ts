// One sampling run, wired as A1111 does it: per-image generators give the initial noise and every
// later draw, the schedule comes from the sampler and scheduler, x starts at noise·σ0 (txt2img)
// or init + noise·σ_start (img2img), DDIM takes its own timesteps path, SDE samplers get a
// Brownian tree per image seed. The pipeline supplies the UNet through the CFG options.
import { brownianNoise } from './brownian.js';
import { createCfgDenoiser, createCfgEps, type CfgOptions } from './cfg.js';
import { LATENT_CHANNELS } from './denoiser.js';
import { SamplingError } from './errors.js';
import type { SamplerId, SchedulerId } from './names.js';
import { samplerById } from './registry.js';
import type { SamplerStep } from './sampler.js';
import { sampleDdim } from './samplers/ddim.js';
import { ddimTimesteps, getSigmas, img2imgSigmas, type ModelSchedule } from './schedules.js';
import { ImageNoise, type RngSource } from './seeds.js';
import { f32 } from './torch-math.js';

export interface RunSamplingOptions {
  sampler: SamplerId;
  scheduler: SchedulerId;
  steps: number;
  schedule: ModelSchedule;
  /** The UNet and the conditioning of every image; `cfg.images.length` must equal `seeds.length`. */
  cfg: CfgOptions;
  /** One seed per image (resolveSeed + batchSeeds). */
  seeds: readonly number[];
  rng: RngSource;
  ensd?: number;
  /** DDIM eta (A1111 default 0). */
  ddimEta?: number;
  /** img2img: the encoded (scaled) init latent [B,4,h,w] and the denoising strength. */
  img2img?: { initLatent: Float32Array; strength: number };
  signal?: AbortSignal;
  onStep?: (step: SamplerStep) => void;
}

export interface SamplingResult {
  /** Final latent [B,4,h,w] (divide by the VAE scale factor before decoding). */
  samples: Float32Array;
  /** The sigmas run (k-diffusion samplers) or the timesteps (DDIM). */
  sigmas?: Float32Array;
  timesteps?: Int32Array;
}

/**
 * @example const { samples } = await runSampling({ sampler: 'dpmpp_2m', scheduler: 'automatic', steps: 20,
 *   schedule, cfg, seeds: batchSeeds(resolveSeed(-1), 1), rng: 'nv' });
 */
export async function runSampling(opts: RunSamplingOptions): Promise<SamplingResult> {
  const { cfg, seeds } = opts;
  if (cfg.images.length !== seeds.length) {
    throw new SamplingError('bad_shape', `one seed per image expected: ${cfg.images.length} images, ${seeds.length} seeds`);
  }
  const perImage = LATENT_CHANNELS * cfg.h * cfg.w;
  const rng = new ImageNoise({ seeds, perImage, source: opts.rng, ensd: opts.ensd });
  const noise = rng.next(); // [B,4,h,w]
  const draw = (): Float32Array => rng.next();
  const entry = samplerById(opts.sampler);

  if (entry.kind === 'timesteps') {
    let timesteps = ddimTimesteps(opts.steps, opts.schedule.alphasCumprod.length);
    let x = noise;
    if (opts.img2img) {
      // A1111 sd_samplers_timesteps.sample_img2img (img2img_fix_steps off): t_enc =
      // floor(min(strength, 0.999)·steps); noise the init latent to ts[t_enc], then run ts[:t_enc].
      const ac = opts.schedule.alphasCumprod;
      const tEnc = Math.trunc(Math.min(opts.img2img.strength, 0.999) * opts.steps);
      const a = ac[timesteps[Math.min(tEnc, timesteps.length - 1)]];
      const sa = f32(Math.sqrt(a));
      const sb = f32(Math.sqrt(f32(1 - a)));
      x = Float32Array.from(opts.img2img.initLatent, (v, k) => f32(v * sa) + f32(noise[k] * sb));
      timesteps = timesteps.slice(0, tEnc);
    }
    const samples = await sampleDdim({
      x,
      timesteps,
      alphasCumprod: opts.schedule.alphasCumprod,
      eps: createCfgEps(cfg),
      noise: draw,
      eta: opts.ddimEta,
      signal: opts.signal,
      onStep: opts.onStep,
    });
    return { samples, timesteps };
  }

  let sigmas = getSigmas(opts.sampler, opts.scheduler, opts.steps, opts.schedule);
  let x: Float32Array;
  if (opts.img2img) {
    sigmas = img2imgSigmas(sigmas, opts.img2img.strength);
    const s0 = sigmas[0];
    x = Float32Array.from(opts.img2img.initLatent, (v, k) => v + f32(noise[k] * s0));
  } else {
    const s0 = sigmas[0];
    x = noise.map((v) => v * s0);
  }
  const samples = await entry.sampler.sample({
    x,
    sigmas,
    denoise: createCfgDenoiser(cfg, opts.schedule),
    noise: draw,
    intervalNoise: entry.brownian ? brownianNoise(seeds, perImage) : undefined,
    signal: opts.signal,
    onStep: opts.onStep,
  });
  return { samples, sigmas };
}

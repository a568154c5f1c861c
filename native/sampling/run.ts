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
import type { DenoiseFn, SamplerStep } from './sampler.js';
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
  /**
   * img2img: the encoded (scaled) init latent [B,4,h,w] — or a function of the seed noise, for
   * inpainting's "latent noise" content — and the denoising strength. With `mask`, A1111's latent
   * blend keeps `init·keep + x·repaint` after every guided step and on the result. With `tEnc`
   * (A1111 setup_img2img_steps given explicit steps, as the hires pass does), `steps` is the full
   * schedule length and the last `tEnc + 1` sigmas (DDIM: the first `tEnc` timesteps) are run.
   */
  img2img?: { initLatent: Float32Array | ((seedNoise: Float32Array) => Float32Array); strength: number; mask?: LatentMask; tEnc?: number; noiseMultiplier?: number };
  signal?: AbortSignal;
  onStep?: (step: SamplerStep) => void;
}

/** A1111 p.mask (keep) and p.nmask (repaint), [4,h,w], shared by every image. */
export interface LatentMask {
  keep: Float32Array;
  repaint: Float32Array;
}

/** `latent·repaint + init·keep` per image (A1111 CFGDenoiser apply_blend). */
export function blendLatents(latent: Float32Array, init: Float32Array, mask: LatentMask): Float32Array {
  const per = mask.keep.length;
  const out = new Float32Array(latent.length);
  for (let i = 0; i < latent.length; i++) {
    const k = i % per;
    out[i] = f32(f32(latent[i] * mask.repaint[k]) + f32(init[i] * mask.keep[k]));
  }
  return out;
}

/** How many steps a run takes (what progress reports count to), without running it. */
export function plannedSteps(opts: Pick<RunSamplingOptions, 'sampler' | 'scheduler' | 'steps' | 'schedule'> & { strength?: number; tEnc?: number }): number {
  const entry = samplerById(opts.sampler);
  if (entry.kind === 'timesteps') {
    const ts = ddimTimesteps(opts.steps, opts.schedule.alphasCumprod.length);
    if (opts.strength === undefined) return ts.length - 1;
    return Math.max(0, (opts.tEnc ?? Math.trunc(Math.min(opts.strength, 0.999) * opts.steps)) - 1);
  }
  const sigmas = getSigmas(opts.sampler, opts.scheduler, opts.steps, opts.schedule);
  if (opts.strength === undefined) return sigmas.length - 1;
  return (opts.tEnc !== undefined ? fixedStepSigmas(sigmas, opts.steps, opts.tEnc) : img2imgSigmas(sigmas, opts.strength)).length - 1;
}

/** `sigmas[steps − t_enc − 1:]` (A1111 sample_img2img after setup_img2img_steps with explicit steps). */
function fixedStepSigmas(sigmas: Float32Array, steps: number, tEnc: number): Float32Array {
  return sigmas.slice(Math.max(0, steps - tEnc - 1));
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
  const init = opts.img2img
    ? typeof opts.img2img.initLatent === 'function'
      ? opts.img2img.initLatent(noise)
      : opts.img2img.initLatent
    : undefined;
  const mask = opts.img2img?.mask;
  // A1111 StableDiffusionProcessingImg2Img.sample: `x *= initial_noise_multiplier` on the first draw
  // when it is not 1.0, before the sampler adds it to the init latent (·σ_start, or ·√(1−ᾱ) for
  // DDIM). Only that noise: "latent noise" content and later draws use the unscaled seed noise.
  const mult = opts.img2img?.noiseMultiplier;
  // torch multiplies a float32 tensor by a Python float in float32.
  const startNoise = init && mult !== undefined && mult !== 1 ? noise.map((v) => v * f32(mult)) : noise;
  const finish = (samples: Float32Array): Float32Array => (init && mask ? blendLatents(samples, init, mask) : samples);

  if (entry.kind === 'timesteps') {
    let timesteps = ddimTimesteps(opts.steps, opts.schedule.alphasCumprod.length);
    let x = noise;
    if (opts.img2img && init) {
      // A1111 sd_samplers_timesteps.sample_img2img (img2img_fix_steps off): t_enc =
      // floor(min(strength, 0.999)·steps); noise the init latent to ts[t_enc], then run ts[:t_enc].
      const ac = opts.schedule.alphasCumprod;
      const tEnc = opts.img2img.tEnc ?? Math.trunc(Math.min(opts.img2img.strength, 0.999) * opts.steps);
      const a = ac[timesteps[Math.min(tEnc, timesteps.length - 1)]];
      const sa = f32(Math.sqrt(a));
      const sb = f32(Math.sqrt(f32(1 - a)));
      x = Float32Array.from(init, (v, k) => f32(v * sa) + f32(startNoise[k] * sb));
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
    // A1111 blends timestep samplers before each model call with a noised init latent; only the
    // final blend is applied here (the overlay restores unmasked pixels either way).
    return { samples: finish(samples), timesteps };
  }

  let sigmas = getSigmas(opts.sampler, opts.scheduler, opts.steps, opts.schedule);
  let x: Float32Array;
  if (opts.img2img && init) {
    sigmas = opts.img2img.tEnc !== undefined ? fixedStepSigmas(sigmas, opts.steps, opts.img2img.tEnc) : img2imgSigmas(sigmas, opts.img2img.strength);
    const s0 = sigmas[0];
    x = Float32Array.from(init, (v, k) => v + f32(startNoise[k] * s0));
  } else {
    const s0 = sigmas[0];
    x = noise.map((v) => v * s0);
  }
  const samples = await entry.sampler.sample({
    x,
    sigmas,
    denoise: init && mask ? blendDenoiser(createCfgDenoiser(cfg, opts.schedule), init, mask) : createCfgDenoiser(cfg, opts.schedule),
    noise: draw,
    intervalNoise: entry.brownian ? brownianNoise(seeds, perImage) : undefined,
    signal: opts.signal,
    onStep: opts.onStep,
  });
  return { samples: finish(samples), sigmas };
}

function blendDenoiser(denoise: DenoiseFn, init: Float32Array, mask: LatentMask): DenoiseFn {
  return async (x, sigma, call) => blendLatents(await denoise(x, sigma, call), init, mask);
}

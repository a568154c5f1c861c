// The discrete DDPM noise schedule of SD1/SD2 and every sigma scheduler Easel offers, computed as
// k-diffusion's CompVisDenoiser and A1111's sd_schedulers do it (float32 tensors, float64 Python
// scalars), so the lists match the reference exactly. Fixture README §8 has the formulas.
import { SamplingError } from './errors.js';
import { effectiveScheduler, SAMPLERS, type SamplerId, type SchedulerId } from './names.js';
import { f32, linspace } from './torch-math.js';

/** What a discrete-time eps model's schedule is made of: float32 alphas_cumprod and derived sigmas. */
export interface ModelSchedule {
  /** [T] float32, as the checkpoint's buffer (or the config) gives it. */
  readonly alphasCumprod: Float32Array;
  /** [T] ascending, `sqrt((1 - ac) / ac)` in float32 (CompVisDenoiser.sigmas). */
  readonly sigmas: Float32Array;
  /** [T] float32 `log(sigmas)`. */
  readonly logSigmas: Float32Array;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
}

export interface BetaScheduleConfig {
  linear_start: number;
  linear_end: number;
  timesteps: number;
}

/** Sigmas from the checkpoint's `alphas_cumprod` buffer (float32, as CompVisDenoiser computes them). */
export function modelScheduleFromAlphasCumprod(alphasCumprod: Float32Array): ModelSchedule {
  const n = alphasCumprod.length;
  if (n < 2) throw new SamplingError('bad_schedule', `alphas_cumprod must have at least 2 entries, got ${n}`);
  const sigmas = new Float32Array(n);
  const logSigmas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ac = alphasCumprod[i];
    sigmas[i] = Math.sqrt(f32(f32(1 - ac) / ac));
    logSigmas[i] = Math.log(sigmas[i]);
  }
  return { alphasCumprod, sigmas, logSigmas, sigmaMin: sigmas[0], sigmaMax: sigmas[n - 1] };
}

/**
 * ldm's "linear" (scaled linear) schedule: `betas = linspace(sqrt(b0), sqrt(b1), T, float64)²`,
 * `alphas_cumprod = cumprod(1 - betas)` in float64, stored as float32. For checkpoints without
 * the buffer.
 */
export function alphasCumprodFromConfig(cfg: BetaScheduleConfig): Float32Array {
  const roots = linspace(Math.sqrt(cfg.linear_start), Math.sqrt(cfg.linear_end), cfg.timesteps, 'float64');
  const out = new Float32Array(cfg.timesteps);
  let acc = 1;
  for (let i = 0; i < roots.length; i++) {
    acc *= 1 - roots[i] * roots[i];
    out[i] = acc;
  }
  return out;
}

/** CompVisDenoiser.sigma_to_t (quantize off): piecewise-linear in log sigma, t ∈ [0, T−1]. */
export function sigmaToT(schedule: ModelSchedule, sigma: number): number {
  const ls = schedule.logSigmas;
  const logSigma = f32(Math.log(sigma));
  // Index of the last log-sigma <= log(sigma), clamped so that high = low + 1 exists.
  let low = 0;
  for (let i = 0; i < ls.length; i++) if (logSigma - ls[i] >= 0) low = i;
  low = Math.min(low, ls.length - 2);
  const high = low + 1;
  let w = f32(f32(ls[low] - logSigma) / f32(ls[low] - ls[high]));
  w = Math.min(Math.max(w, 0), 1);
  return f32(f32(f32(1 - w) * low) + f32(w * high));
}

/** CompVisDenoiser.t_to_sigma: interpolates log sigma between the neighbouring integer timesteps. */
export function tToSigma(schedule: ModelSchedule, t: number): number {
  const tf = f32(t);
  const low = Math.floor(tf);
  const high = Math.ceil(tf);
  const w = f32(tf - Math.trunc(tf));
  const ls = schedule.logSigmas;
  return f32(Math.exp(f32(f32(f32(1 - w) * ls[low]) + f32(w * ls[high]))));
}

function withTrailingZero(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length + 1);
  out.set(values);
  return out;
}

/** `CompVisDenoiser.get_sigmas(n)`: t = linspace(T−1, 0, n) → t_to_sigma, + 0 ("Uniform"). */
export function uniformSigmas(schedule: ModelSchedule, n: number): Float32Array {
  const ts = linspace(schedule.sigmas.length - 1, 0, n, 'float32');
  return withTrailingZero(Array.from(ts, (t) => tToSigma(schedule, t)));
}

/** A1111 "Normal" (sgm = false) and "SGM Uniform" (sgm = true): linspace in t between σmax and σmin. */
export function normalSigmas(schedule: ModelSchedule, n: number, sgm = false): Float32Array {
  const start = sigmaToT(schedule, schedule.sigmaMax);
  const end = sigmaToT(schedule, schedule.sigmaMin);
  const ts = sgm ? linspace(start, end, n + 1, 'float32').subarray(0, n) : linspace(start, end, n, 'float32');
  return withTrailingZero(Array.from(ts, (t) => tToSigma(schedule, t)));
}

/** k-diffusion get_sigmas_karras: `(σmax^(1/ρ) + ramp·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ`, + 0. */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float32Array {
  const ramp = linspace(0, 1, n, 'float32');
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const span = f32(minInvRho - maxInvRho);
  return withTrailingZero(Array.from(ramp, (r) => f32(f32(f32(maxInvRho) + f32(r * span)) ** rho)));
}

/** k-diffusion get_sigmas_exponential: `exp(linspace(ln σmax, ln σmin, n))`, + 0. */
export function exponentialSigmas(n: number, sigmaMin: number, sigmaMax: number): Float32Array {
  const logs = linspace(Math.log(sigmaMax), Math.log(sigmaMin), n, 'float32');
  return withTrailingZero(Array.from(logs, (l) => f32(Math.exp(l))));
}

/** A1111 simple_scheduler: every (T/n)-th model sigma from the top, + 0. */
export function simpleSigmas(schedule: ModelSchedule, n: number): Float32Array {
  const T = schedule.sigmas.length;
  const stride = T / n;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(schedule.sigmas[T - 1 - Math.trunc(i * stride)]);
  return withTrailingZero(out);
}

/** One scheduler by id, for `n` steps (`automatic` must be resolved by the caller first). */
export function schedulerSigmas(scheduler: Exclude<SchedulerId, 'automatic'>, schedule: ModelSchedule, n: number): Float32Array {
  switch (scheduler) {
    case 'uniform':
      return uniformSigmas(schedule, n);
    case 'normal':
      return normalSigmas(schedule, n);
    case 'sgm_uniform':
      return normalSigmas(schedule, n, true);
    case 'karras':
      return karrasSigmas(n, schedule.sigmaMin, schedule.sigmaMax);
    case 'exponential':
      return exponentialSigmas(n, schedule.sigmaMin, schedule.sigmaMax);
    case 'simple':
      return simpleSigmas(schedule, n);
  }
}

/**
 * The sigmas a k-diffusion sampler runs on, as A1111's KDiffusionSampler.get_sigmas builds them:
 * "Automatic" becomes the sampler's default, and samplers that discard the penultimate sigma
 * (DPM2) get steps + 1 sigmas with the next-to-last dropped. Returns steps + 1 values ending in 0.
 *
 * @example getSigmas('dpmpp_2m', 'automatic', 20, schedule) // Karras, 21 values
 */
export function getSigmas(sampler: SamplerId, scheduler: SchedulerId, steps: number, schedule: ModelSchedule): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new SamplingError('bad_steps', `steps must be a positive integer, got ${steps}`);
  const info = SAMPLERS.find((s) => s.id === sampler);
  if (!info) throw new SamplingError('unknown_sampler', `unknown sampler "${sampler}"`);
  const discard = info.discardPenultimateSigma;
  const sigmas = schedulerSigmas(effectiveScheduler(info, scheduler), schedule, steps + (discard ? 1 : 0));
  if (!discard) return sigmas;
  const out = new Float32Array(sigmas.length - 1);
  out.set(sigmas.subarray(0, sigmas.length - 2));
  out[out.length - 1] = sigmas[sigmas.length - 1];
  return out;
}

/**
 * A1111's DDIM timesteps (sd_samplers_timesteps.get_timesteps): `clip(arange(0, T, T // steps) + 1, 0, T−1)`.
 * Because of the integer division the list is not always steps + 1 long (5 steps → 5 values).
 */
export function ddimTimesteps(steps: number, T = 1000): Int32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new SamplingError('bad_steps', `steps must be a positive integer, got ${steps}`);
  const stride = Math.max(Math.floor(T / steps), 1);
  const out: number[] = [];
  for (let t = 0; t < T; t += stride) out.push(Math.min(Math.max(t + 1, 0), T - 1));
  return Int32Array.from(out);
}

/**
 * The tail of a k-diffusion schedule that img2img runs at `strength` (A1111 sample_img2img with
 * the default "img2img_fix_steps" off): with `t_enc = floor(min(strength, 0.999)·steps)` it
 * returns `sigmas[steps − t_enc − 1:]`, i.e. t_enc + 1 steps; `x = init_latent + noise·sigmas[0]`.
 */
export function img2imgSigmas(fullSigmas: Float32Array, strength: number): Float32Array {
  const steps = fullSigmas.length - 1;
  const tEnc = Math.trunc(Math.min(strength, 0.999) * steps);
  return fullSigmas.slice(steps - tEnc - 1);
}

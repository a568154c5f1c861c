// The 12 DDPM schedule buffers that ldm's LatentDiffusion registers (`register_schedule`, with
// the "linear" beta schedule, which is really scaled-linear: linspace over sqrt(beta), squared,
// and v_posterior = 0). SD1 single-file checkpoints carry them; diffusers folders do not, so
// they are rebuilt here, in float64 like numpy, then stored as float32 like `to_torch`.
import type { ScheduleConfig } from './config.js';

export const SCHEDULE_BUFFER_NAMES = [
  'betas',
  'alphas_cumprod',
  'alphas_cumprod_prev',
  'sqrt_alphas_cumprod',
  'sqrt_one_minus_alphas_cumprod',
  'log_one_minus_alphas_cumprod',
  'sqrt_recip_alphas_cumprod',
  'sqrt_recipm1_alphas_cumprod',
  'posterior_variance',
  'posterior_log_variance_clipped',
  'posterior_mean_coef1',
  'posterior_mean_coef2',
] as const;

export type ScheduleBufferName = (typeof SCHEDULE_BUFFER_NAMES)[number];

/** torch.linspace(start, end, steps, dtype=float64) on CPU: it fills from both ends toward the middle. */
export function torchLinspace64(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (steps - 1);
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
  return out;
}

/** All 12 buffers in float32, each of length `timesteps`. */
export function ddpmScheduleBuffers(schedule: ScheduleConfig): Record<ScheduleBufferName, Float32Array> {
  const n = schedule.timesteps;
  const betas = torchLinspace64(Math.sqrt(schedule.linear_start), Math.sqrt(schedule.linear_end), n).map((b) => b * b);
  const ac = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    prod *= 1 - betas[i];
    ac[i] = prod;
  }
  const acPrev = new Float64Array(n);
  acPrev[0] = 1;
  for (let i = 1; i < n; i++) acPrev[i] = ac[i - 1];
  const f = (g: (i: number) => number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = g(i);
    return out;
  };
  const posteriorVariance = (i: number) => (betas[i] * (1 - acPrev[i])) / (1 - ac[i]);
  return {
    betas: Float32Array.from(betas),
    alphas_cumprod: Float32Array.from(ac),
    alphas_cumprod_prev: Float32Array.from(acPrev),
    sqrt_alphas_cumprod: f((i) => Math.sqrt(ac[i])),
    sqrt_one_minus_alphas_cumprod: f((i) => Math.sqrt(1 - ac[i])),
    log_one_minus_alphas_cumprod: f((i) => Math.log(1 - ac[i])),
    sqrt_recip_alphas_cumprod: f((i) => Math.sqrt(1 / ac[i])),
    sqrt_recipm1_alphas_cumprod: f((i) => Math.sqrt(1 / ac[i] - 1)),
    posterior_variance: f(posteriorVariance),
    posterior_log_variance_clipped: f((i) => Math.log(Math.max(posteriorVariance(i), 1e-20))),
    posterior_mean_coef1: f((i) => (betas[i] * Math.sqrt(acPrev[i])) / (1 - ac[i])),
    posterior_mean_coef2: f((i) => ((1 - acPrev[i]) * Math.sqrt(1 - betas[i])) / (1 - ac[i])),
  };
}

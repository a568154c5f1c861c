// The one contract every sampler implements, plus the few element-wise helpers they share.
// Samplers only see Float32Arrays and callbacks: the model (with guidance), the noise source and
// the progress callback are injected, so this layer imports nothing heavy.
import { throwIfAborted } from './errors.js';
import type { SamplerId } from './names.js';
import { f32 } from './torch-math.js';

/** The guided denoiser D(x, σ) (CFG already applied). `callIndex` counts model calls, from 0. */
export type DenoiseFn = (x: Float32Array, sigma: number, callIndex: number) => Promise<Float32Array>;

/** The guided eps model for timestep samplers (DDIM): eps(x, t) with CFG applied on eps. */
export type EpsFn = (x: Float32Array, t: number, callIndex: number) => Promise<Float32Array>;

/** Brownian-interval noise between two sigmas, standard normal per element (SDE samplers). */
export type IntervalNoise = (sigma: number, sigmaNext: number) => Float32Array;

/** Builds the interval noise for one run; k-diffusion spans it over [min σ > 0, max σ]. */
export type IntervalNoiseFactory = (sigmaMin: number, sigmaMax: number) => IntervalNoise;

export interface SamplerStep {
  /** Step index, 0-based. */
  index: number;
  /** Number of steps in the run. */
  total: number;
  sigma: number;
  /** x as A1111 passes it to its step callback (k-diffusion: before the update; DDIM: after). */
  x: Float32Array;
  /** The step's denoised estimate (DDIM: pred_x0). */
  denoised: Float32Array;
}

export interface SampleOptions {
  /** Initial latent [B,4,h,w]; for txt2img the seed noise already multiplied by sigmas[0]. */
  x: Float32Array;
  /** Descending, ending in 0. */
  sigmas: Float32Array;
  denoise: DenoiseFn;
  /**
   * One draw of x.length standard normals from the per-image generators (k-diffusion's
   * `randn_like(x)`, routed by A1111 to the seed's generator). Samplers call it exactly where
   * k-diffusion does, including draws whose values are unused, so later draws line up.
   */
  noise: () => Float32Array;
  /** Required by the SDE samplers (A1111 gives them a seeded Brownian tree). */
  intervalNoise?: IntervalNoiseFactory;
  /** Checked before every model call: cancel takes effect within one model evaluation. */
  signal?: AbortSignal;
  onStep?: (step: SamplerStep) => void;
}

export interface Sampler {
  readonly id: SamplerId;
  sample(opts: SampleOptions): Promise<Float32Array>;
}

/** Wraps the denoiser: checks the AbortSignal before every call and numbers the calls. */
export function modelCaller(opts: Pick<SampleOptions, 'denoise' | 'signal'>): (x: Float32Array, sigma: number) => Promise<Float32Array> {
  let calls = 0;
  return async (x, sigma) => {
    throwIfAborted(opts.signal);
    return opts.denoise(x, sigma, calls++);
  };
}

/** k-diffusion to_d: `(x − denoised) / σ`. */
export function toD(x: Float32Array, sigma: number, denoised: Float32Array): Float32Array {
  const d = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) d[i] = f32(x[i] - denoised[i]) / sigma;
  return d;
}

/** `x + a·s` (a new array). */
export function addScaled(x: Float32Array, a: Float32Array, s: number): Float32Array {
  const out = new Float32Array(x.length);
  const sf = f32(s);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + f32(a[i] * sf);
  return out;
}

/** `a·p + b·q` (a new array). */
export function combine(p: number, a: Float32Array, q: number, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  const pf = f32(p);
  const qf = f32(q);
  for (let i = 0; i < a.length; i++) out[i] = f32(a[i] * pf) + f32(b[i] * qf);
  return out;
}

/** k-diffusion get_ancestral_step in float32: [σ_down, σ_up] for eta. */
export function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): [number, number] {
  if (!eta) return [sigmaTo, 0];
  const from2 = f32(sigmaFrom * sigmaFrom);
  const to2 = f32(sigmaTo * sigmaTo);
  const up = Math.min(sigmaTo, f32(eta * f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)))));
  const down = f32(Math.sqrt(f32(to2 - f32(up * up))));
  return [down, up];
}

/** The smallest positive and the largest sigma (k-diffusion's Brownian tree span). */
export function sigmaSpan(sigmas: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const s of sigmas) {
    if (s > 0) min = Math.min(min, s);
    max = Math.max(max, s);
  }
  return [min, max];
}

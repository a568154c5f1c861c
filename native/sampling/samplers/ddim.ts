// A1111's DDIM (sd_samplers_timesteps_impl.ddim), not k-diffusion's: it walks the `1000 // steps`
// timesteps from the top, feeds the UNet x unscaled with the integer timestep, guides on eps and
// draws one noise tensor per step (multiplied by σ_t, which is 0 for the default eta 0).
import { throwIfAborted } from '../errors.js';
import type { EpsFn, SamplerStep } from '../sampler.js';
import { f32 } from '../torch-math.js';

export interface DdimOptions {
  /** Initial latent [B,4,h,w]: for txt2img the plain seed noise (not scaled by a sigma). */
  x: Float32Array;
  /** Ascending timesteps (schedules.ddimTimesteps); ts[0] is never evaluated. */
  timesteps: Int32Array;
  /** [T] float32 alphas_cumprod of the model. */
  alphasCumprod: Float32Array;
  eps: EpsFn;
  noise: () => Float32Array;
  /** A1111's "Eta for DDIM" (default 0). */
  eta?: number;
  signal?: AbortSignal;
  onStep?: (step: SamplerStep) => void;
}

export async function sampleDdim(opts: DdimOptions): Promise<Float32Array> {
  const { timesteps: ts, alphasCumprod: ac } = opts;
  const eta = opts.eta ?? 0;
  const total = ts.length - 1;
  let x = opts.x; // [B,4,h,w]
  for (let i = 0; i < total; i++) {
    const index = ts.length - 1 - i;
    throwIfAborted(opts.signal);
    const e = await opts.eps(x, ts[index], i);
    const aT = ac[ts[index]];
    const aPrev = ac[ts[index - 1]];
    const sqrtOneMinusAt = f32(Math.sqrt(f32(1 - aT)));
    const sqrtAt = f32(Math.sqrt(aT));
    // numpy float64: eta·sqrt((1 − a_prev)/(1 − a)·(1 − a/a_prev)), then a float32 scalar.
    const sigmaT = f32(eta * Math.sqrt(((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev)));
    const dirCoef = f32(Math.sqrt(f32(f32(1 - aPrev) - f32(sigmaT * sigmaT))));
    const sqrtAPrev = f32(Math.sqrt(aPrev));
    const predX0 = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) predX0[k] = f32(x[k] - f32(sqrtOneMinusAt * e[k])) / sqrtAt;
    const noise = opts.noise();
    const next = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      next[k] = f32(f32(sqrtAPrev * predX0[k]) + f32(dirCoef * e[k])) + f32(sigmaT * noise[k]);
    }
    x = next;
    opts.onStep?.({ index: i, total, sigma: 0, x, denoised: predX0 });
  }
  return x;
}

// k-diffusion sample_dpmpp_sde (eta 1, s_noise 1, r = 1/2): DPM-Solver++ with a stochastic midpoint,
// two model calls per step, noise from the run's Brownian interval (A1111 passes a Brownian tree
// seeded with the image seeds). The last step (σ_{i+1} = 0) is Euler.
import { SamplingError } from '../errors.js';
import { addScaled, ancestralStep, modelCaller, sigmaSpan, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

const tOf = (sigma: number): number => f32(-Math.log(sigma));
const sigmaOf = (t: number): number => f32(Math.exp(-t));
const MIDPOINT = 0.5;

/** `(σ(t_to)/σ(t))·x − expm1(t − t_to)·target` (the DPM-Solver++ first order update). */
function solverStep(x: Float32Array, target: Float32Array, t: number, tTo: number): Float32Array {
  const ratio = f32(sigmaOf(tTo) / sigmaOf(t));
  const mix = f32(Math.expm1(f32(t - tTo)));
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = f32(x[k] * ratio) - f32(target[k] * mix);
  return out;
}

export const dpmppSde: Sampler = {
  id: 'dpmpp_sde',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    if (!opts.intervalNoise) throw new SamplingError('noise_sampler_missing', 'DPM++ SDE needs intervalNoise (a Brownian tree seeded with the image seeds)');
    const noiseBetween = opts.intervalNoise(...sigmaSpan(sigmas));
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    for (let i = 0; i < total; i++) {
      const sigma = sigmas[i];
      const next = sigmas[i + 1];
      const denoised = await call(x, sigma);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      if (next === 0) {
        x = addScaled(x, toD(x, sigma, denoised), f32(next - sigma));
        continue;
      }
      const t = tOf(sigma);
      const tNext = tOf(next);
      const h = f32(tNext - t);
      const s = f32(t + f32(h * MIDPOINT));
      const fac = 1 / (2 * MIDPOINT);

      // Step 1: to the midpoint s, with ancestral noise.
      const [sd1, su1] = ancestralStep(sigmaOf(t), sigmaOf(s));
      let x2 = solverStep(x, denoised, t, tOf(sd1));
      x2 = addScaled(x2, noiseBetween(sigmaOf(t), sigmaOf(s)), su1);
      const denoised2 = await call(x2, sigmaOf(s));

      // Step 2: to t_next from the blended estimate.
      const [sd2, su2] = ancestralStep(sigmaOf(t), sigmaOf(tNext));
      const target = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) target[k] = f32(f32(1 - fac) * denoised[k]) + f32(fac * denoised2[k]);
      x = solverStep(x, target, t, tOf(sd2));
      x = addScaled(x, noiseBetween(sigmaOf(t), sigmaOf(tNext)), su2);
    }
    return x;
  },
};

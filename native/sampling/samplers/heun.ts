// k-diffusion sample_heun (s_churn 0): Euler predictor, trapezoidal corrector with a second model
// call at σ_{i+1}; the last step (σ_{i+1} = 0) is plain Euler. One unused noise draw per step,
// as in k-diffusion.
import { addScaled, modelCaller, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

export const heun: Sampler = {
  id: 'heun',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    for (let i = 0; i < total; i++) {
      opts.noise();
      const sigma = sigmas[i];
      const next = sigmas[i + 1];
      const denoised = await call(x, sigma);
      const d = toD(x, sigma, denoised);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      const dt = f32(next - sigma);
      if (next === 0) {
        x = addScaled(x, d, dt);
        continue;
      }
      const x2 = addScaled(x, d, dt);
      const d2 = toD(x2, next, await call(x2, next));
      const dPrime = new Float32Array(d.length);
      for (let k = 0; k < d.length; k++) dPrime[k] = f32(d[k] + d2[k]) / 2;
      x = addScaled(x, dPrime, dt);
    }
    return x;
  },
};

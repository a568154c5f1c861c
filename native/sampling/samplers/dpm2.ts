// k-diffusion sample_dpm_2 (s_churn 0): a midpoint step in log σ with a second model call at
// σ_mid = sqrt(σ_i·σ_{i+1}); the last step is Euler. One unused noise draw per step, as in
// k-diffusion. A1111 runs it on a schedule with the penultimate sigma dropped (schedules.ts).
import { addScaled, modelCaller, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

export const dpm2: Sampler = {
  id: 'dpm2',
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
      if (next === 0) {
        x = addScaled(x, d, f32(next - sigma));
        continue;
      }
      // torch.lerp(a, b, 0.5) evaluates b − (b − a)·0.5.
      const logSigma = f32(Math.log(sigma));
      const logNext = f32(Math.log(next));
      const sigmaMid = f32(Math.exp(f32(logNext - f32(f32(logNext - logSigma) * 0.5))));
      const x2 = addScaled(x, d, f32(sigmaMid - sigma));
      const d2 = toD(x2, sigmaMid, await call(x2, sigmaMid));
      x = addScaled(x, d2, f32(next - sigma));
    }
    return x;
  },
};

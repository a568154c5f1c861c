// k-diffusion sample_euler (s_churn 0). Like k-diffusion it draws one noise tensor per step before
// the model call even though s_churn = 0 leaves it unused: the draw advances the seed's generator.
import { addScaled, modelCaller, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

export const euler: Sampler = {
  id: 'euler',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    for (let i = 0; i < total; i++) {
      opts.noise();
      const sigma = sigmas[i];
      const denoised = await call(x, sigma);
      const d = toD(x, sigma, denoised);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      x = addScaled(x, d, f32(sigmas[i + 1] - sigma));
    }
    return x;
  },
};

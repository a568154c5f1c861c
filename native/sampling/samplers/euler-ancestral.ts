// k-diffusion sample_euler_ancestral (eta 1, s_noise 1): an Euler step to σ_down, then fresh noise
// scaled by σ_up, drawn after the model call of every step whose σ_{i+1} > 0.
import { addScaled, ancestralStep, modelCaller, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

export const eulerAncestral: Sampler = {
  id: 'euler_a',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    for (let i = 0; i < total; i++) {
      const sigma = sigmas[i];
      const denoised = await call(x, sigma);
      const [sigmaDown, sigmaUp] = ancestralStep(sigma, sigmas[i + 1]);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      const d = toD(x, sigma, denoised);
      x = addScaled(x, d, f32(sigmaDown - sigma));
      if (sigmas[i + 1] > 0) x = addScaled(x, opts.noise(), sigmaUp);
    }
    return x;
  },
};

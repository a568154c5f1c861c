// k-diffusion sample_dpmpp_2m: DPM-Solver++(2M), second order multistep in t = −log σ, first order
// on the first step and on the step to σ = 0.
import { modelCaller, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

const tOf = (sigma: number): number => f32(-Math.log(sigma));
const sigmaOf = (t: number): number => f32(Math.exp(-t));

export const dpmpp2m: Sampler = {
  id: 'dpmpp_2m',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    let oldDenoised: Float32Array | undefined;
    for (let i = 0; i < total; i++) {
      const sigma = sigmas[i];
      const denoised = await call(x, sigma);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      const t = tOf(sigma);
      const tNext = tOf(sigmas[i + 1]); // +Infinity at σ = 0
      const h = f32(tNext - t);
      const ratio = f32(sigmaOf(tNext) / sigmaOf(t));
      const mix = f32(Math.expm1(-h));
      let target = denoised;
      if (oldDenoised && sigmas[i + 1] !== 0) {
        const hLast = f32(t - tOf(sigmas[i - 1]));
        const r = f32(hLast / h);
        const inv2r = f32(1 / f32(2 * r));
        const a = f32(1 + inv2r);
        target = new Float32Array(x.length);
        for (let k = 0; k < x.length; k++) target[k] = f32(denoised[k] * a) - f32(oldDenoised[k] * inv2r);
      }
      const next = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) next[k] = f32(x[k] * ratio) - f32(target[k] * mix);
      x = next;
      oldDenoised = denoised;
    }
    return x;
  },
};

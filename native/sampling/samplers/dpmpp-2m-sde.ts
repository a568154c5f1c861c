// k-diffusion sample_dpmpp_2m_sde (eta 1, s_noise 1, midpoint solver): DPM-Solver++(2M) SDE with
// noise from the run's Brownian interval (A1111 passes a Brownian tree seeded with the image
// seeds). The step to σ = 0 returns the denoised estimate.
import { SamplingError } from '../errors.js';
import { modelCaller, sigmaSpan, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

const ETA = 1;

export const dpmpp2mSde: Sampler = {
  id: 'dpmpp_2m_sde',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    if (!opts.intervalNoise) throw new SamplingError('noise_sampler_missing', 'DPM++ 2M SDE needs intervalNoise (a Brownian tree seeded with the image seeds)');
    const noiseBetween = opts.intervalNoise(...sigmaSpan(sigmas));
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    let x = opts.x; // [B,4,h,w]
    let oldDenoised: Float32Array | undefined;
    let hLast = 0;
    for (let i = 0; i < total; i++) {
      const sigma = sigmas[i];
      const next = sigmas[i + 1];
      const denoised = await call(x, sigma);
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      if (next === 0) {
        x = denoised;
        oldDenoised = denoised;
        continue;
      }
      const t = f32(-Math.log(sigma));
      const s = f32(-Math.log(next));
      const h = f32(s - t);
      const etaH = f32(ETA * h);
      const keep = f32(f32(f32(next / sigma) * f32(Math.exp(-etaH))));
      const mix = f32(-Math.expm1(f32(-h - etaH)));
      const out = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) out[k] = f32(keep * x[k]) + f32(mix * denoised[k]);
      if (oldDenoised) {
        const r = f32(hLast / h);
        const corr = f32(f32(0.5 * mix) * f32(1 / r));
        for (let k = 0; k < x.length; k++) out[k] = out[k] + f32(corr * f32(denoised[k] - oldDenoised[k]));
      }
      const noiseScale = f32(next * f32(Math.sqrt(f32(-Math.expm1(f32(-2 * etaH))))));
      const n = noiseBetween(sigma, next);
      for (let k = 0; k < x.length; k++) out[k] = out[k] + f32(n[k] * noiseScale);
      x = out;
      oldDenoised = denoised;
      hLast = h;
    }
    return x;
  },
};

// k-diffusion sample_lms (order 4): linear multistep over the last derivatives, with coefficients
// that integrate the Lagrange basis polynomials over [σ_i, σ_{i+1}]. The reference integrates them
// numerically (scipy quad); here the cubic is expanded and integrated exactly.
import { modelCaller, toD, type SampleOptions, type Sampler } from '../sampler.js';
import { f32 } from '../torch-math.js';

const DEFAULT_ORDER = 4;

/**
 * `∫_{σ_i}^{σ_{i+1}} Π_{k≠j} (τ − σ_{i−k}) / (σ_{i−j} − σ_{i−k}) dτ` over `order` nodes, in float64.
 *
 * @example lmsCoefficient(1, sigmas, i, 0) // σ_{i+1} − σ_i (Euler)
 */
export function lmsCoefficient(order: number, sigmas: ArrayLike<number>, i: number, j: number): number {
  // Work in u = τ − σ_i so the polynomial is small near the integration interval.
  const origin = sigmas[i];
  let poly = [1]; // coefficients of u^0, u^1, …
  let denom = 1;
  for (let k = 0; k < order; k++) {
    if (k === j) continue;
    const root = sigmas[i - k] - origin;
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let m = 0; m < poly.length; m++) {
      next[m + 1] += poly[m];
      next[m] -= root * poly[m];
    }
    poly = next;
    denom *= sigmas[i - j] - sigmas[i - k];
  }
  const h = sigmas[i + 1] - origin;
  let integral = 0;
  for (let m = poly.length - 1; m >= 0; m--) integral = integral * h + poly[m] / (m + 1);
  return (integral * h) / denom;
}

export const lms: Sampler = {
  id: 'lms',
  async sample(opts: SampleOptions): Promise<Float32Array> {
    const { sigmas } = opts;
    const call = modelCaller(opts);
    const total = sigmas.length - 1;
    const ds: Float32Array[] = []; // newest last, at most DEFAULT_ORDER
    let x = opts.x; // [B,4,h,w]
    for (let i = 0; i < total; i++) {
      const sigma = sigmas[i];
      const denoised = await call(x, sigma);
      ds.push(toD(x, sigma, denoised));
      if (ds.length > DEFAULT_ORDER) ds.shift();
      opts.onStep?.({ index: i, total, sigma, x, denoised });
      const order = Math.min(i + 1, DEFAULT_ORDER);
      // k-diffusion sums coeff·d over the derivatives newest first, starting from coeff_0·d_i.
      let sum: Float32Array | undefined;
      for (let j = 0; j < order; j++) {
        const c = f32(lmsCoefficient(order, sigmas, i, j));
        const d = ds[ds.length - 1 - j];
        if (!sum) {
          sum = new Float32Array(d.length);
          for (let k = 0; k < d.length; k++) sum[k] = f32(d[k] * c);
        } else {
          for (let k = 0; k < d.length; k++) sum[k] = sum[k] + f32(d[k] * c);
        }
      }
      const next = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) next[k] = x[k] + sum![k];
      x = next;
    }
    return x;
  },
};

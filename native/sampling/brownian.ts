// Brownian-interval noise for the SDE samplers (DPM++ SDE, DPM++ 2M SDE). A1111 hands these
// k-diffusion's BrownianTreeNoiseSampler, built on torchsde with one tree per image seed; torchsde's
// internal random stream is not reproduced here, so results are NOT bit-identical to A1111. What
// is kept: one Brownian motion W per image over [σmin, σmax], seeded by the image seed (so batch
// composition does not matter), deterministic for a given sequence of queries, and the noise for
// (σ, σ') is (W(σ') − W(σ))/sqrt(|σ' − σ|): N(0, 1) per element, and jointly consistent across
// overlapping intervals (DPM++ SDE asks for (σ_i, s_i) and then (σ_i, σ_{i+1}) ⊃ it).
//
// W is sampled lazily at the queried points only: W(t0) = 0, W(t1) = sqrt(t1 − t0)·Z, and each new
// point t is drawn from the Brownian bridge between its known neighbours a < t < b,
// W(t) = W(a) + (t − a)/(b − a)·(W(b) − W(a)) + sqrt((t − a)(b − t)/(b − a))·Z_t. Sequential bridge
// sampling gives exactly the joint law of Brownian motion at the points, and costs one normal draw
// per new point. Z_t is keyed by (seed, t) through Philox seeding a xoshiro128** stream.
import { philox4x32, seedKey } from './rng-philox.js';
import type { IntervalNoise, IntervalNoiseFactory } from './sampler.js';

/** Counter word 3 tag that keeps these streams apart from the NV generator's (which uses 0). */
const STREAM_TAG = 0x42524f57;
const TWO_POW_M32 = 2 ** -32;
const TWO_PI = 2 * Math.PI;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit hash of a float64's bits, to key a point's draw by its position. */
function hashPoint(t: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, t);
  return [view.getUint32(0), view.getUint32(4)];
}

/** `n` standard normals for one stream: Philox keyed by the seed seeds a xoshiro128** generator. */
function streamNormals(key: readonly [number, number], c0: number, c1: number, n: number): Float64Array {
  const words = new Uint32Array(4);
  philox4x32(c0, c1, 0, STREAM_TAG, key[0], key[1], words);
  let s0 = words[0] | 0;
  let s1 = words[1] | 0;
  let s2 = words[2] | 0;
  let s3 = words[3] | 1; // xoshiro's state must not be all zero
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = (next() + 0.5) * TWO_POW_M32;
    const v = (next() + 0.5) * TWO_POW_M32;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(TWO_PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(TWO_PI * v);
  }
  return out;
}

/** One image's Brownian motion over [t0, t1], sampled at the points asked for: `value(t)` = W(t). */
export class BrownianPath {
  private readonly key: [number, number];
  /** Known points, ascending in t. */
  private readonly points: { t: number; w: Float64Array }[];

  constructor(
    seed: number,
    readonly size: number,
    readonly t0: number,
    readonly t1: number,
  ) {
    this.key = seedKey(seed);
    const [h0, h1] = hashPoint(t1);
    const scale = Math.sqrt(t1 - t0);
    this.points = [
      { t: t0, w: new Float64Array(size) },
      { t: t1, w: streamNormals(this.key, h0, h1, size).map((z) => z * scale) },
    ];
  }

  value(t: number): Float64Array {
    const tc = Math.min(Math.max(t, this.t0), this.t1);
    const pts = this.points;
    let hi = 1;
    while (pts[hi].t < tc) hi++;
    if (pts[hi].t === tc) return pts[hi].w;
    if (pts[hi - 1].t === tc) return pts[hi - 1].w;
    const a = pts[hi - 1];
    const b = pts[hi];
    const frac = (tc - a.t) / (b.t - a.t);
    const sd = Math.sqrt(((tc - a.t) * (b.t - tc)) / (b.t - a.t));
    const [h0, h1] = hashPoint(tc);
    const z = streamNormals(this.key, h0, h1, this.size);
    const w = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) w[k] = a.w[k] + frac * (b.w[k] - a.w[k]) + sd * z[k];
    pts.splice(hi, 0, { t: tc, w });
    return w;
  }
}

/**
 * A1111's per-image Brownian noise for a batch: image i uses `seeds[i]`, each image has
 * `perImage` elements; the result of a query is [B, perImage].
 *
 * @example const between = brownianNoise([1234], 4 * 64 * 64)(0.03, 14.6); between(14.6, 10.7)
 */
export function brownianNoise(seeds: readonly number[], perImage: number): IntervalNoiseFactory {
  return (sigmaMin: number, sigmaMax: number): IntervalNoise => {
    const paths = seeds.map((seed) => new BrownianPath(seed, perImage, sigmaMin, sigmaMax));
    return (sigma: number, sigmaNext: number): Float32Array => {
      const lo = Math.min(sigma, sigmaNext);
      const hi = Math.max(sigma, sigmaNext);
      const out = new Float32Array(seeds.length * perImage);
      if (hi === lo) return out;
      // k-diffusion: w = (W(hi) − W(lo))·sign, sign −1 when walking down in σ; then / sqrt(|Δσ|).
      const sign = sigma <= sigmaNext ? 1 : -1;
      const scale = sign / Math.sqrt(hi - lo);
      paths.forEach((path, i) => {
        const wHi = path.value(hi);
        const wLo = path.value(lo);
        for (let k = 0; k < perImage; k++) out[i * perImage + k] = (wHi[k] - wLo[k]) * scale;
      });
      return out;
    };
  };
}

// Brownian-interval noise for the SDE samplers (DPM++ SDE, DPM++ 2M SDE). A1111 hands these
// k-diffusion's BrownianTreeNoiseSampler, built on torchsde with one tree per image seed; torchsde's
// internal random stream is not reproduced here, so results are NOT bit-identical to A1111. What
// is kept: one Brownian motion W per image over [σmin, σmax], a pure function of (seed, σ) —
// queries in any order give the same values, batch composition does not matter — and the noise for
// (σ, σ') is (W(σ') − W(σ))/sqrt(|σ' − σ|), N(0, 1) per element and consistent between
// overlapping intervals, as a Brownian tree's is.
//
// W is built by dyadic bisection: W(t0) = 0, W(t1) = sqrt(t1 − t0)·Z, and each midpoint is drawn from
// the Brownian bridge of its interval's endpoints. Node noise is counter-based (Philox keyed by the
// seed, counter = node id, seeding a xoshiro128** stream), so no state is carried; computed nodes are cached because neighbouring
// queries share most of their path. At LEAF_DEPTH (intervals of 2^-16 of the span) the point itself
// is drawn from the leaf's bridge with noise keyed by (leaf, t): every query is exactly Brownian,
// and only two different query points inside one leaf (closer than span·2^-16) are not jointly so.

import { philox4x32, seedKey } from './rng-philox.js';
import type { IntervalNoise, IntervalNoiseFactory } from './sampler.js';

const LEAF_DEPTH = 16;
/** Counter word 3 tags that keep these streams apart from the NV generator's (which uses 0). */
const NODE_TAG = 0x42524f57;
const LEAF_TAG = 0x4c454146;
const TWO_POW_M32 = 2 ** -32;
const TWO_PI = 2 * Math.PI;
/** Node values kept per tree (bytes); neighbouring queries reuse the top of their paths. */
const CACHE_BYTES = 48 * 1024 * 1024;

/**
 * `n` standard normals for one stream: Philox (keyed by the seed, counter = the stream id) seeds a
 * xoshiro128** generator, which is much cheaper per value; Box–Muller gives two normals per pair.
 */
function streamNormals(key: readonly [number, number], c0: number, c1: number, tag: number, n: number): Float64Array {
  const words = new Uint32Array(4);
  philox4x32(c0, c1, 0, tag, key[0], key[1], words);
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

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit hash of a float64's bits, to key a leaf draw by its query point. */
function hashPoint(t: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, t);
  let h = 0x811c9dc5;
  for (let i = 0; i < 8; i++) h = Math.imul(h ^ view.getUint8(i), 0x01000193);
  return h >>> 0;
}

/** One image's Brownian motion over [t0, t1]: `value(t)` = W(t), W(t0) = 0. */
export class BrownianTree {
  private readonly key: [number, number];
  private readonly zero: Float64Array;
  private readonly top: Float64Array;
  private readonly nodes = new Map<number, Float64Array>();
  private readonly maxNodes: number;

  constructor(
    seed: number,
    readonly size: number,
    readonly t0: number,
    readonly t1: number,
  ) {
    this.key = seedKey(seed);
    this.zero = new Float64Array(size);
    const scale = Math.sqrt(t1 - t0);
    this.top = streamNormals(this.key, 0, 0, NODE_TAG, size).map((z) => z * scale);
    this.maxNodes = Math.max(2 * LEAF_DEPTH, Math.floor(CACHE_BYTES / (8 * size)));
  }

  value(t: number): Float64Array {
    const tc = Math.min(Math.max(t, this.t0), this.t1);
    let a = this.t0;
    let b = this.t1;
    let wa = this.zero;
    let wb = this.top;
    let node = 1;
    for (let depth = 0; depth < LEAF_DEPTH; depth++) {
      if (tc === a) return wa;
      if (tc === b) return wb;
      const m = (a + b) / 2;
      const wm = this.midpoint(node, wa, wb, (b - a) / 4);
      if (tc < m) {
        b = m;
        wb = wm;
        node = 2 * node;
      } else {
        a = m;
        wa = wm;
        node = 2 * node + 1;
      }
    }
    if (tc === a) return wa;
    if (tc === b) return wb;
    const w = (tc - a) / (b - a);
    const sd = Math.sqrt(((tc - a) * (b - tc)) / (b - a));
    const z = streamNormals(this.key, node, hashPoint(tc), LEAF_TAG, this.size);
    const out = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) out[k] = wa[k] + w * (wb[k] - wa[k]) + sd * z[k];
    return out;
  }

  /** The bridge midpoint of a node: (W(a) + W(b))/2 + sqrt((b − a)/4)·Z_node, cached. */
  private midpoint(node: number, wa: Float64Array, wb: Float64Array, variance: number): Float64Array {
    const hit = this.nodes.get(node);
    if (hit) return hit;
    const z = streamNormals(this.key, node, 0, NODE_TAG, this.size);
    const sd = Math.sqrt(variance);
    const wm = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) wm[k] = (wa[k] + wb[k]) / 2 + sd * z[k];
    if (this.nodes.size >= this.maxNodes) this.nodes.delete(this.nodes.keys().next().value!);
    this.nodes.set(node, wm);
    return wm;
  }
}

/**
 * A1111's per-image Brownian noise for a batch: image i uses `seeds[i]`, each image has
 * `perImage` elements; the result of a query is [B, perImage].
 *
 * @example const factory = brownianNoise([1234], 4 * 64 * 64); const between = factory(0.03, 14.6);
 */
export function brownianNoise(seeds: readonly number[], perImage: number): IntervalNoiseFactory {
  return (sigmaMin: number, sigmaMax: number): IntervalNoise => {
    const trees = seeds.map((seed) => new BrownianTree(seed, perImage, sigmaMin, sigmaMax));
    return (sigma: number, sigmaNext: number): Float32Array => {
      const lo = Math.min(sigma, sigmaNext);
      const hi = Math.max(sigma, sigmaNext);
      const out = new Float32Array(seeds.length * perImage);
      if (hi === lo) return out;
      // k-diffusion: w = (W(hi) − W(lo))·sign, sign −1 when walking down in σ; then / sqrt(|Δσ|).
      const sign = sigma <= sigmaNext ? 1 : -1;
      const scale = sign / Math.sqrt(hi - lo);
      trees.forEach((tree, i) => {
        const wHi = tree.value(hi);
        const wLo = tree.value(lo);
        for (let k = 0; k < perImage; k++) out[i * perImage + k] = (wHi[k] - wLo[k]) * scale;
      });
      return out;
    };
  };
}

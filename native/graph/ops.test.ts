// The op helpers run in ONNX Runtime and are compared with direct JS implementations of the
// PyTorch modules they stand for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import type { Value } from './builder.js';
import { conv2d, geglu, geluErf, groupNorm, layerNorm, linear, quickGelu, silu } from './ops-nn.js';
import { attention } from './ops-attention.js';
import { resizeNearest } from './ops-tensor.js';
import { upsampleConv2x } from './ops-upconv.js';
import { conv3x3, winogradConv3x3, winogradKernels } from './ops-winograd.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import type { EngineRuntime, EngineSession } from '../runtime/ort-backend.js';
import { materializeWeights, memoryWeightSource } from '../runtime/weights.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() + r() + r()) * scale);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** erf by its Maclaurin series (|z| < 6 here; Abramowitz–Stegun 7.1.26 is too coarse). */
function erf(z: number): number {
  let sum = 0;
  let term = z;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-z * z) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

let runtime: EngineRuntime;
const sessions: EngineSession[] = [];

beforeAll(async () => {
  runtime = await createEngineRuntime({ device: 'cpu' });
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function run(
  weights: Tensors,
  inputs: Record<string, { shape: number[]; data: Float32Array }>,
  body: (g: GraphBuilder, x: Record<string, Value>) => Value,
): Promise<{ out: Float32Array; shape: readonly number[] }> {
  const source = memoryWeightSource(weights);
  const g = new GraphBuilder({ name: 'op-test', weightShape: (k) => source.shape(k) });
  const xs: Record<string, Value> = {};
  for (const [name, t] of Object.entries(inputs)) xs[name] = g.input(name, 'float32', t.shape);
  const y = g.output(body(g, xs), 'y');
  const built = g.build();
  const session = await runtime.createSession(built, await materializeWeights(built, source));
  sessions.push(session);
  const feeds = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, { dtype: 'float32' as const, data: t.data, dims: t.shape }]));
  const res = await session.run(feeds);
  return { out: res.y, shape: y.shape };
}

/** torch Conv2d(k=3) by hand over NCHW x [b, c, h, w], weights `<key>.weight` [o, c, 3, 3] and `<key>.bias`. */
function refConv3x3(x: Float32Array, weights: Tensors, dims: readonly number[], stride: number, pt: number, pl: number, ho: number, wo: number, key = 'c'): Float32Array {
  const [b, c, h, w] = dims;
  const kernel = weights[`${key}.weight`];
  const bias = weights[`${key}.bias`];
  const o = kernel.shape[0];
  const out = new Float32Array(b * o * ho * wo);
  for (let n = 0; n < b; n++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < ho; y++)
        for (let xx = 0; xx < wo; xx++) {
          let acc = bias.data[oc];
          for (let ic = 0; ic < c; ic++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = y * stride + ky - pt;
                const ix = xx * stride + kx - pl;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += x[((n * c + ic) * h + iy) * w + ix] * kernel.data[((oc * c + ic) * 3 + ky) * 3 + kx];
              }
          out[((n * o + oc) * ho + y) * wo + xx] = acc;
        }
  return out;
}

describe('op helpers against direct implementations', () => {
  it('conv2d: 3×3 same padding, stride 2 with (0,1,0,1) padding', async () => {
    const [b, c, h, w, o] = [2, 3, 5, 6, 4];
    const x = randn(b * c * h * w, 1);
    const weights: Tensors = { 'c.weight': { shape: [o, c, 3, 3], data: randn(o * c * 9, 2) }, 'c.bias': { shape: [o], data: randn(o, 3) } };
    const ref = (stride: number, pt: number, pl: number, ho: number, wo: number) => refConv3x3(x, weights, [b, c, h, w], stride, pt, pl, ho, wo);
    const same = await run(weights, { x: { shape: [b, c, h, w], data: x } }, (g, i) => conv2d(g, i.x, 'c'));
    expect(same.shape).toEqual([b, o, h, w]);
    expect(maxAbsDiff(same.out, ref(1, 1, 1, h, w))).toBeLessThan(1e-5);
    const down = await run(weights, { x: { shape: [b, c, h, w], data: x } }, (g, i) => conv2d(g, i.x, 'c', { stride: 2, pads: [0, 0, 1, 1] }));
    expect(down.shape).toEqual([b, o, 2, 3]);
    expect(maxAbsDiff(down.out, ref(2, 0, 0, 2, 3))).toBeLessThan(1e-5);
  });

  it('winogradConv3x3: F(2×2) and F(4×4) equal the direct 3×3 conv on sizes that are not whole tiles; conv3x3 picks by policy', async () => {
    const [b, c, h, w, o] = [2, 5, 7, 10, 6];
    const x = randn(b * c * h * w, 41);
    const weights: Tensors = { 'c.weight': { shape: [o, c, 3, 3], data: randn(o * c * 9, 42) }, 'c.bias': { shape: [o], data: randn(o, 43) } };
    const ref = refConv3x3(x, weights, [b, c, h, w], 1, 1, 1, h, w);
    for (const m of [2, 4] as const) {
      const { out, shape } = await run(weights, { x: { shape: [b, c, h, w], data: x } }, (g, v) => winogradConv3x3(g, v.x, 'c', m));
      expect(shape).toEqual([b, o, h, w]);
      expect(maxAbsDiff(out, ref)).toBeLessThan(2e-5);
    }
    // the kernel is bound in its transformed layout [(m+2)², O, C] and computed when the weights are filled
    const build = (policy: Parameters<typeof conv3x3>[3]) => {
      const g = new GraphBuilder({ name: 'wino-policy', weightShape: (k) => weights[k]?.shape });
      g.output(conv3x3(g, g.input('x', 'float32', [b, c, h, w]), 'c', policy), 'y');
      return g.build();
    };
    const wino = build({ minChannels: 5, maxActivation: b * c * h * w, minArea: h * w });
    expect(wino.weights.find((k) => k.key === 'c.weight')).toMatchObject({ winograd: 2, shape: [16, o, c] }); // min(h, w) < 8: F(2×2)
    expect(wino.opCounts).toMatchObject({ MatMul: 1, ConvTranspose: 1 });
    for (const direct of [build(undefined), build({ minChannels: 6, maxActivation: Infinity }), build({ minChannels: 1, maxActivation: b * c * h * w - 1 }), build({ minChannels: 1, maxActivation: Infinity, minArea: h * w + 1 })]) {
      expect(direct.weights.find((k) => k.key === 'c.weight')).toMatchObject({ shape: [o, c, 3, 3] });
      expect(direct.opCounts).toMatchObject({ Conv: 1 });
      expect(direct.opCounts.MatMul).toBeUndefined();
    }
    // G·w·Gᵀ of one kernel by hand: F(2×2)'s G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]]
    const k = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const u = winogradKernels(k, 1, 1, 2);
    expect(u[0]).toBe(1); // G[0]·w·G[0]ᵀ = w[0][0]
    expect(u[5]).toBeCloseTo(0.25 * k.reduce((p, v) => p + v, 0), 5); // (1,1): ¼ Σ w
    expect(u[15]).toBe(9); // w[2][2]
  });

  it('geglu: a · gelu(gate) of the chunked projection, with the weight split rather than the [.., 2·inner] output', async () => {
    const [b, s, c, inner] = [2, 5, 6, 4];
    const x = randn(b * s * c, 31);
    const weights: Tensors = { 'p.weight': { shape: [2 * inner, c], data: randn(2 * inner * c, 32) }, 'p.bias': { shape: [2 * inner], data: randn(2 * inner, 33) } };
    const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    const ref = new Float32Array(b * s * inner);
    for (let r = 0; r < b * s; r++)
      for (let j = 0; j < inner; j++) {
        const proj = (o: number) => {
          let acc = weights['p.bias'].data[o];
          for (let k = 0; k < c; k++) acc += x[r * c + k] * weights['p.weight'].data[o * c + k];
          return acc;
        };
        ref[r * inner + j] = proj(j) * gelu(proj(inner + j)); // torch chunk(2, -1): value first, gate second
      }
    const { out, shape } = await run(weights, { x: { shape: [b, s, c], data: x } }, (g, v) => geglu(g, v.x, 'p'));
    expect(shape).toEqual([b, s, inner]);
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
    // the weight and bias are split (two MatMuls), not a [b, s, 2·inner] projection output
    const g = new GraphBuilder({ name: 'geglu-ops', weightShape: (k) => weights[k]?.shape });
    g.output(geglu(g, g.input('x', 'float32', [b, s, c]), 'p'), 'y');
    expect(g.build().opCounts).toMatchObject({ MatMul: 2, Split: 2 });
  });

  it('upsampleConv2x: four 2×2 phase convs (and the small-input plain form) equal conv3×3(nearest ×2) on odd sizes', async () => {
    const [b, c, h, w, o] = [2, 3, 3, 5, 4];
    const x = randn(b * c * h * w, 11);
    const weights: Tensors = { 'u.weight': { shape: [o, c, 3, 3], data: randn(o * c * 9, 12) }, 'u.bias': { shape: [o], data: randn(o, 13) } };
    // torch: interpolate(x, scale_factor=2, mode="nearest") then Conv2d(k=3, padding=1), by hand
    const [H, W] = [2 * h, 2 * w];
    const upsampled = new Float32Array(b * c * H * W);
    for (let p = 0; p < b * c; p++)
      for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) upsampled[(p * H + y) * W + xx] = x[(p * h + (y >> 1)) * w + (xx >> 1)];
    const ref = refConv3x3(upsampled, weights, [b, c, H, W], 1, 1, 1, H, W, 'u');
    const up = await run(weights, { x: { shape: [b, c, h, w], data: x } }, (g, i) => upsampleConv2x(g, i.x, 'u', 0));
    expect(maxAbsDiff(up.out, ref)).toBeLessThan(1e-5);
    const plain = await run(weights, { x: { shape: [b, c, h, w], data: x } }, (g, i) => upsampleConv2x(g, i.x, 'u'));
    expect(plain.shape).toEqual([b, o, H, W]);
    expect(maxAbsDiff(plain.out, ref)).toBeLessThan(1e-5);
  });

  it('groupNorm matches torch GroupNorm(groups, C, eps)', async () => {
    const [b, c, h, w, groups] = [2, 8, 3, 5, 4];
    const x = randn(b * c * h * w, 4, 2);
    for (let i = 0; i < x.length; i++) x[i] += 3; // an offset, so that a missing mean subtraction shows
    const gamma = randn(c, 5);
    const beta = randn(c, 6);
    const { out } = await run({ 'n.weight': { shape: [c], data: gamma }, 'n.bias': { shape: [c], data: beta } }, { x: { shape: [b, c, h, w], data: x } }, (g, i) =>
      groupNorm(g, i.x, 'n', groups, 1e-6),
    );
    const per = (c / groups) * h * w;
    const ref = new Float32Array(x.length);
    for (let n = 0; n < b; n++)
      for (let gi = 0; gi < groups; gi++) {
        const base = (n * groups + gi) * per;
        let mean = 0;
        for (let i = 0; i < per; i++) mean += x[base + i];
        mean /= per;
        let v = 0;
        for (let i = 0; i < per; i++) v += (x[base + i] - mean) ** 2;
        v /= per;
        for (let i = 0; i < per; i++) {
          const ch = gi * (c / groups) + Math.floor(i / (h * w));
          ref[base + i] = ((x[base + i] - mean) / Math.sqrt(v + 1e-6)) * gamma[ch] + beta[ch];
        }
      }
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
  });

  it('linear and layerNorm over the last axis', async () => {
    const [b, s, i, o] = [2, 3, 6, 5];
    const x = randn(b * s * i, 7);
    const weights: Tensors = {
      'l.weight': { shape: [o, i], data: randn(o * i, 8) },
      'l.bias': { shape: [o], data: randn(o, 9) },
      'ln.weight': { shape: [o], data: randn(o, 10) },
      'ln.bias': { shape: [o], data: randn(o, 11) },
    };
    const { out } = await run(weights, { x: { shape: [b, s, i], data: x } }, (g, v) => layerNorm(g, linear(g, v.x, 'l'), 'ln', 1e-5));
    const ref = new Float32Array(b * s * o);
    for (let r = 0; r < b * s; r++) {
      const row = new Float64Array(o);
      for (let oc = 0; oc < o; oc++) {
        let acc = weights['l.bias'].data[oc];
        for (let k = 0; k < i; k++) acc += x[r * i + k] * weights['l.weight'].data[oc * i + k];
        row[oc] = acc;
      }
      const mean = row.reduce((p, v) => p + v, 0) / o;
      const variance = row.reduce((p, v) => p + (v - mean) ** 2, 0) / o;
      for (let oc = 0; oc < o; oc++) {
        ref[r * o + oc] = ((row[oc] - mean) / Math.sqrt(variance + 1e-5)) * weights['ln.weight'].data[oc] + weights['ln.bias'].data[oc];
      }
    }
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
  });

  it('activations: silu, quick_gelu, exact gelu', async () => {
    const x = randn(64, 12, 3);
    const shape = [64];
    const cases: Array<[(g: GraphBuilder, v: Value) => Value, (v: number) => number]> = [
      [silu, (v) => v / (1 + Math.exp(-v))],
      [quickGelu, (v) => v / (1 + Math.exp(-1.702 * v))],
      [geluErf, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    ];
    for (const [fn, ref] of cases) {
      const { out } = await run({}, { x: { shape, data: x } }, (g, v) => fn(g, v.x));
      expect(maxAbsDiff(out, Array.from(x, ref))).toBeLessThan(2e-6);
    }
  });

  it('resizeNearest picks source index floor(dst · in / out) like torch nearest', async () => {
    const [b, c, h, w] = [1, 2, 4, 6];
    const x = Float32Array.from({ length: b * c * h * w }, (_, i) => i);
    for (const [oh, ow] of [
      [3, 4],
      [8, 12],
      [5, 7],
    ]) {
      const { out, shape } = await run({}, { x: { shape: [b, c, h, w], data: x } }, (g, v) => resizeNearest(g, v.x, oh, ow));
      expect(shape).toEqual([b, c, oh, ow]);
      const ref: number[] = [];
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) ref.push(x[(ch * h + Math.floor((y * h) / oh)) * w + Math.floor((xx * w) / ow)]);
      expect(Array.from(out)).toEqual(ref);
    }
  });

  it('attention: fused and matmul lowerings agree with softmax(q·kᵀ/√d)·v, causal masks the future', async () => {
    const [b, s, l, heads, d] = [2, 5, 7, 2, 4];
    const c = heads * d;
    const q = randn(b * s * c, 13);
    const k = randn(b * l * c, 14);
    const v = randn(b * l * c, 15);
    const ref = (causal: boolean, kl: number, kk: Float32Array, vv: Float32Array) => {
      const out = new Float32Array(b * s * c);
      for (let n = 0; n < b; n++)
        for (let hh = 0; hh < heads; hh++)
          for (let i = 0; i < s; i++) {
            const scores: number[] = [];
            for (let j = 0; j < kl; j++) {
              let dot = 0;
              for (let e = 0; e < d; e++) dot += q[(n * s + i) * c + hh * d + e] * kk[(n * kl + j) * c + hh * d + e];
              scores.push(causal && j > i ? -Infinity : dot / Math.sqrt(d));
            }
            const m = Math.max(...scores);
            const ex = scores.map((x) => Math.exp(x - m));
            const z = ex.reduce((p, x) => p + x, 0);
            for (let e = 0; e < d; e++) {
              let acc = 0;
              for (let j = 0; j < kl; j++) acc += (ex[j] / z) * vv[(n * kl + j) * c + hh * d + e];
              out[(n * s + i) * c + hh * d + e] = acc;
            }
          }
      return out;
    };
    const inputs = { q: { shape: [b, s, c], data: q }, k: { shape: [b, l, c], data: k }, v: { shape: [b, l, c], data: v } };
    const expected = ref(false, l, k, v);
    for (const lowering of ['fused', 'matmul'] as const) {
      const { out } = await run({}, inputs, (g, x) => attention(g, x.q, x.k, x.v, { heads, lowering }));
      expect(maxAbsDiff(out, expected)).toBeLessThan(1e-5);
    }
    const selfInputs = { q: inputs.q, k: { shape: [b, s, c], data: k.slice(0, b * s * c) }, v: { shape: [b, s, c], data: v.slice(0, b * s * c) } };
    const causal = await run({}, selfInputs, (g, x) => attention(g, x.q, x.k, x.v, { heads, causal: true }));
    expect(maxAbsDiff(causal.out, ref(true, s, selfInputs.k.data, selfInputs.v.data))).toBeLessThan(1e-5);
    expect(maxAbsDiff(causal.out, ref(false, s, selfInputs.k.data, selfInputs.v.data))).toBeGreaterThan(1e-3);
  });
});

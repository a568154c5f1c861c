// The weight deltas ("updown") of LoRA, LoCon (with optional CP mid), LyCORIS LoHa and LoKr, with the
// order of operations of A1111 v1.10.1's Lora extension (network_lora / network_hada / network_lokr /
// lyco_helpers): build the delta in float32, reshape it to the target weight, then
// `updown · scale · multiplier`, and the merge `W + updown` per network, one network after another.

import { NetworkError } from './lora-error.js';

/** A float32 tensor in row-major (C) order. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export type LoraModuleWeights =
  | { kind: 'lora'; up: Tensor; down: Tensor; mid?: Tensor }
  | { kind: 'loha'; w1a: Tensor; w1b: Tensor; w2a: Tensor; w2b: Tensor; t1?: Tensor; t2?: Tensor }
  | { kind: 'lokr'; w1?: Tensor; w1a?: Tensor; w1b?: Tensor; w2?: Tensor; w2a?: Tensor; w2b?: Tensor; t2?: Tensor };

export interface LoraModule {
  weights: LoraModuleWeights;
  /** `<name>.alpha` when present. */
  alpha?: number;
  /** `<name>.scale` when present (overrides alpha/dim). */
  scale?: number;
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** `a.reshape(a.shape[0], -1) @ b.reshape(b.shape[0], -1)` → [rows(a), cols(b)]. */
export function matmul2d(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[0], k = a.data.length / m;
  const kb = b.shape[0], n = b.data.length / kb;
  if (k !== kb) throw new NetworkError('lora_shape_mismatch', `cannot multiply [${a.shape}] by [${b.shape}]`);
  const out = new Float32Array(m * n); // [m, n]
  for (let i = 0; i < m; i++) {
    const row = out.subarray(i * n, (i + 1) * n);
    for (let p = 0; p < k; p++) {
      const av = a.data[i * k + p];
      if (av === 0) continue;
      const brow = b.data.subarray(p * n, (p + 1) * n);
      for (let j = 0; j < n; j++) row[j] += av * brow[j];
    }
  }
  return { shape: [m, n], data: out };
}

/** lyco_helpers.make_weight_cp: out[p, q, k, l] = Σ_i Σ_j t[i, j, k, l] · wb[j, q] · wa[i, p]. */
export function makeWeightCp(t: Tensor, wa: Tensor, wb: Tensor): Tensor {
  const [ti, tj, kh, kw] = [t.shape[0], t.shape[1], t.shape[2] ?? 1, t.shape[3] ?? 1];
  const sp = kh * kw;
  const r = wb.shape[1], p = wa.shape[1];
  // temp[i, q, s] = Σ_j t[i, j, s] · wb[j, q]
  const temp = new Float32Array(ti * r * sp);
  for (let i = 0; i < ti; i++) {
    for (let j = 0; j < tj; j++) {
      for (let q = 0; q < r; q++) {
        const w = wb.data[j * r + q];
        for (let s = 0; s < sp; s++) temp[(i * r + q) * sp + s] += t.data[(i * tj + j) * sp + s] * w;
      }
    }
  }
  const out = new Float32Array(p * r * sp); // [p, r, kh, kw]
  for (let i = 0; i < ti; i++) {
    for (let pp = 0; pp < p; pp++) {
      const w = wa.data[i * p + pp];
      for (let x = 0; x < r * sp; x++) out[pp * r * sp + x] += temp[i * r * sp + x] * w;
    }
  }
  return { shape: [p, r, kh, kw], data: out };
}

/** lyco_helpers.rebuild_cp_decomposition: out[i, j, k, l] = Σ_n Σ_m mid[n, m, k, l] · up[i, n] · down[m, j]. */
function rebuildCp(up: Tensor, down: Tensor, mid: Tensor): Tensor {
  const upT = transpose2d(flatten2d(up)); // [n, i]
  return makeWeightCp(mid, upT, flatten2d(down));
}

function flatten2d(t: Tensor): Tensor {
  return { shape: [t.shape[0], t.data.length / t.shape[0]], data: t.data };
}

function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

/** torch.kron for two tensors of the same rank (2 or 4). */
export function kron(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== b.shape.length) throw new NetworkError('lora_shape_mismatch', `kron of [${a.shape}] and [${b.shape}]`);
  const rank = a.shape.length;
  const outShape = a.shape.map((d, i) => d * b.shape[i]);
  const out = new Float32Array(numel(outShape));
  const aStr = strides(a.shape), bStr = strides(b.shape), oStr = strides(outShape);
  const ai = new Array<number>(rank).fill(0);
  for (let x = 0; x < a.data.length; x++) {
    let rem = x;
    for (let d = 0; d < rank; d++) {
      ai[d] = Math.floor(rem / aStr[d]);
      rem -= ai[d] * aStr[d];
    }
    const av = a.data[x];
    for (let y = 0; y < b.data.length; y++) {
      let r2 = y, o = 0;
      for (let d = 0; d < rank; d++) {
        const bi = Math.floor(r2 / bStr[d]);
        r2 -= bi * bStr[d];
        o += (ai[d] * b.shape[d] + bi) * oStr[d];
      }
      out[o] = av * b.data[y];
    }
  }
  return { shape: outShape, data: out };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The rank A1111 divides alpha by (`self.dim`), per module type. */
function moduleDim(w: LoraModuleWeights): number | undefined {
  if (w.kind === 'lora') return w.down.shape[0];
  if (w.kind === 'loha') return w.w1b.shape[0];
  return w.w2b?.shape[0] ?? w.w1b?.shape[0];
}

/** network.NetworkModule.calc_scale: `scale`, else alpha / dim, else 1. */
export function moduleScale(m: LoraModule): number {
  if (m.scale !== undefined) return m.scale;
  const dim = moduleDim(m.weights);
  if (dim !== undefined && m.alpha !== undefined) return m.alpha / dim;
  return 1.0;
}

/** The raw delta before scaling, and the shape A1111 computes it in. */
function rawUpdown(w: LoraModuleWeights, target: readonly number[]): Tensor {
  switch (w.kind) {
    case 'lora': {
      const outShape = [w.up.shape[0], w.down.shape[1]];
      if (w.mid) return { shape: [...outShape, ...w.mid.shape.slice(2)], data: rebuildCp(w.up, w.down, w.mid).data };
      if (w.down.shape.length === 4) outShape.push(...w.down.shape.slice(2));
      return { shape: outShape, data: matmul2d(w.up, w.down).data };
    }
    case 'loha': {
      let outShape = [w.w1a.shape[0], w.w1b.shape[1]];
      let u1: Tensor;
      if (w.t1) {
        outShape = [w.w1a.shape[1], w.w1b.shape[1], ...w.t1.shape.slice(2)];
        u1 = makeWeightCp(w.t1, w.w1a, w.w1b);
      } else {
        if (w.w1b.shape.length === 4) outShape.push(...w.w1b.shape.slice(2));
        u1 = matmul2d(w.w1a, w.w1b);
      }
      const u2 = w.t2 ? makeWeightCp(w.t2, w.w2a, w.w2b) : matmul2d(w.w2a, w.w2b);
      if (u1.data.length !== u2.data.length) throw new NetworkError('lora_shape_mismatch', `LoHa halves differ: [${u1.shape}] vs [${u2.shape}]`);
      const data = new Float32Array(u1.data.length);
      for (let i = 0; i < data.length; i++) data[i] = u1.data[i] * u2.data[i];
      return { shape: outShape, data };
    }
    case 'lokr': {
      const w1 = w.w1 ?? (w.w1a && w.w1b ? matmul2d(w.w1a, w.w1b) : undefined);
      let w2 = w.w2;
      if (!w2 && w.w2a && w.w2b) w2 = w.t2 ? makeWeightCp(w.t2, w.w2a, w.w2b) : matmul2d(w.w2a, w.w2b);
      if (!w1 || !w2) throw new NetworkError('bad_lora_file', 'LoKr module lacks lokr_w1 or lokr_w2 (or their _a/_b factors)');
      const a = w2.shape.length === 4 && w1.shape.length === 2 ? { shape: [...w1.shape, 1, 1], data: w1.data } : w1;
      const k = kron(a, w2);
      const outShape = target.length === 4 ? [...target] : [w1.shape[0] * w2.shape[0], w1.shape[1] * w2.shape[1]];
      return { shape: outShape, data: k.data };
    }
  }
}

/**
 * `updown · scale · multiplier` for one module, shaped like the target weight (A1111's finalize_updown).
 *
 * @throws NetworkError `lora_shape_mismatch` when the delta does not have the target's element count
 */
export function moduleDelta(m: LoraModule, target: readonly number[], multiplier: number, where = 'module'): Float32Array {
  return finalize(m, rawUpdown(m.weights, target), target, multiplier, where);
}

/** moduleDelta with the plain LoRA product `up @ down` done by `matmul` (e.g. on ONNX Runtime). */
export async function moduleDeltaWith(
  m: LoraModule,
  target: readonly number[],
  multiplier: number,
  where: string,
  matmul: (a: Tensor, b: Tensor) => Promise<Tensor>,
): Promise<Float32Array> {
  const w = m.weights;
  if (w.kind !== 'lora' || w.mid) return moduleDelta(m, target, multiplier, where);
  const shape = [w.up.shape[0], w.down.shape[1], ...w.down.shape.slice(2)];
  const u = await matmul(flatten2d(w.up), flatten2d(w.down));
  return finalize(m, { shape, data: u.data }, target, multiplier, where);
}

function finalize(m: LoraModule, u: Tensor, target: readonly number[], multiplier: number, where: string): Float32Array {
  if (u.data.length !== numel(target)) {
    throw new NetworkError('lora_shape_mismatch', `${where}: LoRA delta [${u.shape}] does not fit weight [${target}]`);
  }
  const scale = Math.fround(moduleScale(m));
  const mult = Math.fround(multiplier);
  const out = u.data;
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(out[i] * scale) * mult);
  return out;
}

/** `W += delta` in float32 (in place; returns W). */
export function addInPlace(w: Float32Array, delta: Float32Array): Float32Array {
  for (let i = 0; i < w.length; i++) w[i] = w[i] + delta[i];
  return w;
}

// torch.nn.functional.interpolate on NCHW float32 tensors, as the CPU kernels of torch 1.13–2.1
// compute it with `size=` given (scale = in/out as float32, align_corners=False). A1111's hires fix
// resizes latents with it ("Latent …" upscalers), so the arithmetic follows the kernels step by
// step in float32: the order of the sums is the kernels' order, which keeps results bit-close.
//   nearest        src = min(floor(dst·scale), in−1)           (UpSampleKernel nearest_idx)
//   nearest-exact  src = min(floor((dst+0.5)·scale), in−1)
//   bilinear       two taps per axis, rows of taps combined last (upsample_generic_Nd)
//   bicubic        four clamped taps per axis, Keys cubic a = −0.75
//   antialias      separable PIL-style filter (triangle / cubic a = −0.5), width first, weights
//                  normalised per output pixel, support scaled by in/out when downsampling
import { f32 } from '../sampling/torch-math.js';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

export interface Nchw {
  /** Planes (batch × channels), each h × w, row major. */
  data: Float32Array;
  planes: number;
  h: number;
  w: number;
}

export class InterpolateError extends Error {
  readonly code = 'bad_input';
}

/** torch area_pixel_compute_scale with align_corners=False and no explicit scale factor. */
function scaleOf(inSize: number, outSize: number): number {
  return f32(inSize / outSize);
}

function nearestIndex(dst: number, inSize: number, outSize: number, exact: boolean): number {
  if (!exact) {
    // torch's nearest_idx shortcuts: same size, and exact doubling (bit shift).
    if (outSize === inSize) return dst;
    if (outSize === 2 * inSize) return dst >> 1;
  }
  const scale = scaleOf(inSize, outSize);
  const src = exact ? f32(f32(dst + 0.5) * scale) : f32(dst * scale);
  return Math.min(Math.floor(src), inSize - 1);
}

function interpolateNearest(x: Nchw, oh: number, ow: number, exact: boolean): Float32Array {
  const out = new Float32Array(x.planes * oh * ow);
  const ys = Int32Array.from({ length: oh }, (_, i) => nearestIndex(i, x.h, oh, exact));
  const xs = Int32Array.from({ length: ow }, (_, i) => nearestIndex(i, x.w, ow, exact));
  for (let p = 0; p < x.planes; p++) {
    const src = p * x.h * x.w, dst = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) out[dst + y * ow + xx] = x.data[src + ys[y]! * x.w + xs[xx]!]!;
    }
  }
  return out;
}

/** Taps of one output position along one axis: input indices and their weights. */
interface Taps {
  index: Int32Array; // [out, n]
  weight: Float32Array; // [out, n]
  n: number;
}

/** compute_indices_weights_linear (align_corners=False). */
function linearTaps(inSize: number, outSize: number): Taps {
  const index = new Int32Array(outSize * 2), weight = new Float32Array(outSize * 2);
  const scale = scaleOf(inSize, outSize);
  for (let i = 0; i < outSize; i++) {
    // area_pixel_compute_source_index: float scale times a double, rounded to float once.
    const real = Math.max(f32(scale * (i + 0.5) - 0.5), 0);
    const i0 = Math.min(Math.floor(real), inSize - 1);
    const lambda = Math.min(Math.max(f32(real - i0), 0), 1);
    const offset = i0 < inSize - 1 ? 1 : 0;
    index[2 * i] = i0;
    index[2 * i + 1] = i0 + offset;
    weight[2 * i] = f32(1 - lambda);
    weight[2 * i + 1] = lambda;
  }
  return { index, weight, n: 2 };
}

const cubic1 = (x: number, a: number): number => f32(f32(f32(f32(f32(f32(a + 2) * x) - f32(a + 3)) * x) * x) + 1);
const cubic2 = (x: number, a: number): number => f32(f32(f32(f32(f32(f32(a * x) - f32(5 * a)) * x) + f32(8 * a)) * x) - f32(4 * a));

/** compute_indices_weights_cubic: four taps around floor(src), clamped to the edge, a = −0.75. */
function cubicTaps(inSize: number, outSize: number): Taps {
  const index = new Int32Array(outSize * 4), weight = new Float32Array(outSize * 4);
  const scale = scaleOf(inSize, outSize);
  const a = -0.75;
  for (let i = 0; i < outSize; i++) {
    const real = f32(scale * (i + 0.5) - 0.5); // cubic: no clamp at 0
    const i0 = Math.floor(real);
    const t = f32(real - i0);
    const t2 = f32(1 - t);
    weight[4 * i] = cubic2(f32(t + 1), a);
    weight[4 * i + 1] = cubic1(t, a);
    weight[4 * i + 2] = cubic1(t2, a);
    weight[4 * i + 3] = cubic2(f32(t2 + 1), a);
    for (let j = 0; j < 4; j++) index[4 * i + j] = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
  }
  return { index, weight, n: 4 };
}

/** upsample_generic_Nd for 2 dims: interpolate along x in each tapped row, then combine the rows. */
function interpolateSeparableTaps(x: Nchw, oh: number, ow: number, ty: Taps, tx: Taps): Float32Array {
  const out = new Float32Array(x.planes * oh * ow);
  for (let p = 0; p < x.planes; p++) {
    const src = p * x.h * x.w, dst = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let acc = 0;
        for (let j = 0; j < ty.n; j++) {
          const row = src + ty.index[y * ty.n + j]! * x.w;
          let t = f32(x.data[row + tx.index[xx * tx.n]!]! * tx.weight[xx * tx.n]!);
          for (let k = 1; k < tx.n; k++) t = f32(t + f32(x.data[row + tx.index[xx * tx.n + k]!]! * tx.weight[xx * tx.n + k]!));
          const term = f32(t * ty.weight[y * ty.n + j]!);
          acc = j === 0 ? term : f32(acc + term);
        }
        out[dst + y * ow + xx] = acc;
      }
    }
  }
  return out;
}

const triangle = (x: number): number => {
  const ax = Math.abs(x);
  return ax < 1 ? f32(1 - ax) : 0;
};
const keysHalf = (x: number): number => {
  const ax = Math.abs(x);
  if (ax < 1) return cubic1(ax, -0.5);
  if (ax < 2) return cubic2(ax, -0.5);
  return 0;
};

/** One axis of the antialiased kernels: _compute_weights_aa in float32. */
interface AaTaps {
  min: Int32Array;
  size: Int32Array;
  weight: Float32Array; // [out, maxSize]
  stride: number;
}

function aaTaps(inSize: number, outSize: number, interpSize: number, filter: (x: number) => number): AaTaps {
  const scale = scaleOf(inSize, outSize);
  const support = scale >= 1 ? f32(f32(interpSize * 0.5) * scale) : f32(interpSize * 0.5);
  const invscale = scale >= 1 ? f32(1 / scale) : 1;
  const stride = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize), size = new Int32Array(outSize), weight = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(f32(center - support) + 0.5), 0);
    const xsize = Math.min(Math.trunc(f32(center + support) + 0.5), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      // (j + xmin − center) is float; `+ 0.5` and `· invscale` run in double, the filter takes float.
      const w = filter(f32((f32(j + xmin - center) + 0.5) * invscale));
      weight[i * stride + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weight[i * stride + j] = f32(weight[i * stride + j]! / total);
    min[i] = xmin;
    size[i] = xsize;
  }
  return { min, size, weight, stride };
}

/** One antialiased pass along the width (`horizontal`) or the height. */
function aaPass(x: Nchw, outSize: number, horizontal: boolean, interpSize: number, filter: (v: number) => number): Nchw {
  const inSize = horizontal ? x.w : x.h;
  const taps = aaTaps(inSize, outSize, interpSize, filter);
  const oh = horizontal ? x.h : outSize, ow = horizontal ? outSize : x.w;
  const out = new Float32Array(x.planes * oh * ow);
  const step = horizontal ? 1 : x.w;
  for (let p = 0; p < x.planes; p++) {
    const src = p * x.h * x.w, dst = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const o = horizontal ? xx : y;
        const base = src + (horizontal ? y * x.w + taps.min[o]! : taps.min[o]! * x.w + xx);
        const wts = o * taps.stride;
        let acc = f32(x.data[base]! * taps.weight[wts]!);
        for (let j = 1; j < taps.size[o]!; j++) acc = f32(acc + f32(x.data[base + j * step]! * taps.weight[wts + j]!));
        out[dst + y * ow + xx] = acc;
      }
    }
  }
  return { data: out, planes: x.planes, h: oh, w: ow };
}

/** separable_upsample_generic_Nd: width first, then height; an axis whose size stays is skipped. */
function interpolateAntialias(x: Nchw, oh: number, ow: number, interpSize: number, filter: (v: number) => number): Float32Array {
  let cur = x;
  if (ow !== x.w) cur = aaPass(cur, ow, true, interpSize, filter);
  if (oh !== x.h) cur = aaPass(cur, oh, false, interpSize, filter);
  return cur === x ? x.data.slice() : cur.data;
}

/**
 * `F.interpolate(x, size=(oh, ow), mode, antialias)` for float32 NCHW data.
 *
 * @example interpolate({ data, planes: 4, h: 8, w: 8 }, 16, 16, 'bilinear') // A1111 "Latent"
 */
export function interpolate(x: Nchw, oh: number, ow: number, mode: InterpolateMode, antialias = false): Float32Array {
  if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1) {
    throw new InterpolateError(`interpolate: output size must be positive integers, got ${ow}x${oh}`);
  }
  if (x.data.length !== x.planes * x.h * x.w) throw new InterpolateError('interpolate: data length does not match planes × h × w');
  if (antialias && (mode === 'nearest' || mode === 'nearest-exact')) {
    throw new InterpolateError('interpolate: antialias is only defined for bilinear and bicubic');
  }
  switch (mode) {
    case 'nearest':
      return interpolateNearest(x, oh, ow, false);
    case 'nearest-exact':
      return interpolateNearest(x, oh, ow, true);
    case 'bilinear':
      if (antialias) return interpolateAntialias(x, oh, ow, 2, triangle);
      return interpolateSeparableTaps(x, oh, ow, linearTaps(x.h, oh), linearTaps(x.w, ow));
    case 'bicubic':
      if (antialias) return interpolateAntialias(x, oh, ow, 4, keysHalf);
      return interpolateSeparableTaps(x, oh, ow, cubicTaps(x.h, oh), cubicTaps(x.w, ow));
  }
}

// Pillow's `Image.resize` on 8-bit images, value for value (Pillow 9.x, the version A1111 v1.10.1
// pins): the separable convolution of libImaging/Resample.c for the filters with support
// (BOX, BILINEAR, HAMMING, BICUBIC, LANCZOS) and the nearest-neighbour scale of Geometry.c.
// A1111 finishes every upscale with LANCZOS, and sharp's Lanczos is a different kernel and rounding,
// so this is a port, not a wrapper: coefficients in double precision, normalised, then fixed point
// with 22 fractional bits, an intermediate uint8 image after the horizontal pass.
import { makeRaster, type Raster } from '../pipelines/image-ops.js';

export type PillowFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

export const PILLOW_FILTERS: readonly PillowFilter[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];

interface Kernel {
  fn(x: number): number;
  support: number;
}

// Pillow evaluates `0.54f + 0.46f * cos(x)` with float literals promoted to double.
const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const KERNELS: Record<Exclude<PillowFilter, 'nearest'>, Kernel> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      let a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      a *= Math.PI;
      return (Math.sin(a) / a) * (HAMMING_A + HAMMING_B * Math.cos(a));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const A = -0.5;
      const a = Math.abs(x);
      if (a < 1) return ((A + 2) * a - (A + 3)) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * A;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point coefficients of one axis: for output index o, taps `k[o·ksize + i]` over inputs `xmin[o] + i`, i < count[o]. */
export interface AxisCoefficients {
  ksize: number;
  xmin: Int32Array;
  count: Int32Array;
  k: Int32Array;
}

/** Resample.c precompute_coeffs + normalize_coeffs_8bpc for the box [0, inSize). */
export function axisCoefficients(inSize: number, outSize: number, filter: Exclude<PillowFilter, 'nearest'>): AxisCoefficients {
  const kernel = KERNELS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = kernel.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xmin = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const ss = 1 / filterscale;
  const w = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // C casts truncate toward zero.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      w[i] = kernel.fn((i + lo - center + 0.5) * ss);
      sum += w[i]!;
    }
    for (let i = 0; i < n; i++) {
      const v = sum !== 0 ? w[i]! / sum : w[i]!;
      k[o * ksize + i] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    xmin[o] = lo;
    count[o] = n;
  }
  return { ksize, xmin, count, k };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(src: Raster, width: number, c: AxisCoefficients): Raster {
  const ch = src.channels;
  const out = makeRaster(width, src.height, ch);
  const sd = src.data, od = out.data;
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * ch;
    const orow = y * width * ch;
    for (let o = 0; o < width; o++) {
      const base = o * c.ksize, lo = c.xmin[o]!, n = c.count[o]!;
      for (let b = 0; b < ch; b++) {
        let acc = HALF;
        for (let i = 0; i < n; i++) acc += sd[row + (lo + i) * ch + b]! * c.k[base + i]!;
        od[orow + o * ch + b] = clip8(acc);
      }
    }
  }
  return out;
}

function resampleVertical(src: Raster, height: number, c: AxisCoefficients): Raster {
  const ch = src.channels;
  const stride = src.width * ch;
  const out = makeRaster(src.width, height, ch);
  const sd = src.data, od = out.data;
  for (let o = 0; o < height; o++) {
    const base = o * c.ksize, lo = c.xmin[o]!, n = c.count[o]!;
    const orow = o * stride;
    for (let x = 0; x < stride; x++) {
      let acc = HALF;
      for (let i = 0; i < n; i++) acc += sd[(lo + i) * stride + x]! * c.k[base + i]!;
      od[orow + x] = clip8(acc);
    }
  }
  return out;
}

// Geometry.c ImagingScaleAffine: the source position starts at half a step and is accumulated in
// double precision, so the indices match Pillow's even where (o + 0.5)·scale would round differently.
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const idx = new Int32Array(outSize);
  let pos = step * 0.5;
  for (let o = 0; o < outSize; o++) {
    idx[o] = Math.min(inSize - 1, pos < 0 ? 0 : Math.trunc(pos));
    pos += step;
  }
  return idx;
}

function resizeNearest(src: Raster, width: number, height: number): Raster {
  const ch = src.channels;
  const xs = nearestIndices(src.width, width);
  const ys = nearestIndices(src.height, height);
  const out = makeRaster(width, height, ch);
  for (let y = 0; y < height; y++) {
    const row = ys[y]! * src.width * ch;
    for (let x = 0; x < width; x++) {
      const si = row + xs[x]! * ch, di = (y * width + x) * ch;
      for (let b = 0; b < ch; b++) out.data[di + b] = src.data[si + b]!;
    }
  }
  return out;
}

/**
 * `Image.resize((width, height), filter)` of Pillow on an 8-bit raster (any channel count; Pillow's
 * RGB and L behave the same per channel). Same size returns a copy, as Pillow does.
 *
 * @example const small = pillowResize(upscaled, 96, 80, 'lanczos');
 */
export function pillowResize(src: Raster, width: number, height: number, filter: PillowFilter): Raster {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`pillowResize: size must be positive integers, got ${width}×${height}`);
  }
  if (width === src.width && height === src.height) return { ...src, data: src.data.slice() };
  if (filter === 'nearest') return resizeNearest(src, width, height);
  let cur = src;
  if (width !== src.width) cur = resampleHorizontal(cur, width, axisCoefficients(src.width, width, filter));
  if (height !== src.height) cur = resampleVertical(cur, height, axisCoefficients(src.height, height, filter));
  return cur;
}

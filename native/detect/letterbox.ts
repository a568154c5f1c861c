// Ultralytics 8.3.86 LetterBox(new_shape, auto=True, stride=32, center=True) on 8-bit RGB, with
// OpenCV 4.x's uint8 `cv2.resize(..., INTER_LINEAR)` reproduced bit for bit: half-pixel centres,
// 11-bit fixed-point weights, the SIMD vertical pass's rounding (`v_mul_hi` on values >> 4, then a
// rounding shift by 2), and OpenCV's switch to INTER_AREA for an exact 2x downscale. Channel order does not matter
// (every step is per channel), so the RGB raster is used as it is.
import type { Raster } from '../pipelines/image-ops.js';

export interface LetterboxResult {
  /** The padded network input as RGB u8, width × height a multiple of the stride. */
  readonly image: Raster;
  readonly ratio: number;
  readonly resized: readonly [number, number];
  readonly padTop: number;
  readonly padBottom: number;
  readonly padLeft: number;
  readonly padRight: number;
}

export const PAD_VALUE = 114;

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; Python rounds them to even (and never returns −0)
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/** The letterboxed input for a target size [h, w] (an int imgsz is [imgsz, imgsz]). */
export function letterbox(src: Raster, newShape: readonly [number, number], stride = 32): LetterboxResult {
  if (src.channels !== 3) throw new Error('letterbox needs an RGB raster');
  const h0 = src.height, w0 = src.width;
  const r = Math.min(newShape[0] / h0, newShape[1] / w0);
  const newW = pyRound(w0 * r), newH = pyRound(h0 * r);
  let dw = (newShape[1] - newW) % stride;
  let dh = (newShape[0] - newH) % stride;
  dw /= 2;
  dh /= 2;
  const resized = newW === w0 && newH === h0 ? src : resizeLinearU8(src, newW, newH);
  const top = pyRound(dh - 0.1), bottom = pyRound(dh + 0.1);
  const left = pyRound(dw - 0.1), right = pyRound(dw + 0.1);
  const W = newW + left + right, H = newH + top + bottom;
  const data = new Uint8Array(W * H * 3).fill(PAD_VALUE);
  for (let y = 0; y < newH; y++) data.set(resized.data.subarray(y * newW * 3, (y + 1) * newW * 3), ((y + top) * W + left) * 3);
  return { image: { width: W, height: H, channels: 3, data }, ratio: r, resized: [newW, newH], padTop: top, padBottom: bottom, padLeft: left, padRight: right };
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/** saturate_cast<short>(v) for the weights: round half to even like cvRound. */
function roundCoef(v: number): number {
  return pyRound(v * COEF_SCALE);
}

/** Source index and fixed-point weights along one axis (OpenCV resize_ setup for INTER_LINEAR). */
function axisTable(srcSize: number, dstSize: number, clampLow: boolean): { ofs: Int32Array; a0: Int32Array; a1: Int32Array } {
  const scale = 1 / (dstSize / srcSize);
  const ofs = new Int32Array(dstSize), a0 = new Int32Array(dstSize), a1 = new Int32Array(dstSize);
  for (let d = 0; d < dstSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampLow) {
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s >= srcSize - 1) {
        f = 0;
        s = srcSize - 1;
      }
    }
    ofs[d] = s;
    a0[d] = roundCoef(Math.fround(1 - f));
    a1[d] = roundCoef(f);
  }
  return { ofs, a0, a1 };
}

/** cv2.resize(src, (w, h), interpolation=INTER_LINEAR) for 8-bit images with 1-4 channels. */
export function resizeLinearU8(src: Raster, w: number, h: number): Raster {
  const cn = src.channels;
  if (src.width === 2 * w && src.height === 2 * h) return areaHalf(src, w, h);
  const xt = axisTable(src.width, w, true);
  const yt = axisTable(src.height, h, false);
  const rowLen = w * cn;
  const hrow = (y: number): Int32Array => {
    const out = new Int32Array(rowLen);
    const base = y * src.width * cn;
    for (let dx = 0; dx < w; dx++) {
      const sx = xt.ofs[dx];
      const sx1 = Math.min(sx + 1, src.width - 1);
      for (let k = 0; k < cn; k++) out[dx * cn + k] = src.data[base + sx * cn + k] * xt.a0[dx] + src.data[base + sx1 * cn + k] * xt.a1[dx];
    }
    return out;
  };
  const cache = new Map<number, Int32Array>();
  const row = (y: number) => {
    const yy = Math.min(Math.max(y, 0), src.height - 1);
    let r = cache.get(yy);
    if (!r) {
      r = hrow(yy);
      cache.set(yy, r);
      if (cache.size > 4) cache.delete(cache.keys().next().value!);
    }
    return r;
  };
  const out = new Uint8Array(rowLen * h);
  for (let dy = 0; dy < h; dy++) {
    const s0 = row(yt.ofs[dy]), s1 = row(yt.ofs[dy] + 1);
    const b0 = yt.a0[dy], b1 = yt.a1[dy];
    const o = dy * rowLen;
    // VResizeLinearVec_32s8u: the fixed-point rows >> 4, v_mul_hi with the weights, rounding shift
    // by 2. The fixture shows this rounding on every column, row tails included.
    for (let x = 0; x < rowLen; x++) {
      const v = (((s0[x] >> 4) * b0) >> 16) + (((s1[x] >> 4) * b1) >> 16);
      out[o + x] = Math.min(255, Math.max(0, (v + 2) >> 2));
    }
  }
  return { width: w, height: h, channels: cn, data: out };
}

/** OpenCV's INTER_AREA for an exact 2x reduction: (a + b + c + d + 2) >> 2. */
function areaHalf(src: Raster, w: number, h: number): Raster {
  const cn = src.channels, sw = src.width;
  const out = new Uint8Array(w * h * cn);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < cn; k++) {
        const p = (2 * y * sw + 2 * x) * cn + k;
        const s = src.data[p] + src.data[p + cn] + src.data[p + sw * cn] + src.data[p + sw * cn + cn];
        out[(y * w + x) * cn + k] = (s + 2) >> 2;
      }
    }
  }
  return { width: w, height: h, channels: cn, data: out };
}

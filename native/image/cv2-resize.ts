// cv2.resize with an explicit destination size, as OpenCV 4.x (modules/imgproc/src/resize.cpp)
// computes it on 8-bit images (1–4 channels) and on float32 images — INTER_NEAREST, INTER_AREA and
// INTER_CUBIC, the three the ControlNet extension uses. Each path follows OpenCV's arithmetic:
//   same size        a plain copy (cv::resize returns early).
//   nearest          sx = min(floor(dx · (1 / (dw / sw))), sw − 1), per axis, in double.
//   area, integer    "fast area" (both scales integers): 2×2 on 1/3/4 channels is
//                    (a + b + c + d + 2) >> 2; other factors sum · (1/area) in float32, rounded half
//                    to even (saturate_cast).
//   area, other      scale ≥ 1 on both axes: the DecimateAlpha tables (computeResizeAreaTab) and the
//                    float32 accumulation of ResizeArea_Invoker, rounded half to even.
//                    Upscaling on an axis: OpenCV's "area-mode" bilinear (ksize 2, alpha from the
//                    cell overlap, 11-bit fixed point for 8-bit images).
//   cubic            Keys a = −0.75 weights in float32 (interpolateCubic); on 8-bit images the
//                    horizontal pass is integer with 11-bit weights and the vertical pass is
//                    VResizeCubicVec_32s8u: float32 (S0·b0 + (S1·b1 + (S2·b2 + S3·b3))) with
//                    b = β / 2048², rounded half to even. Borders replicate.
// The result of the 8-bit vertical cubic pass follows the SIMD kernel (what x86 builds run for
// every row of a width divisible by the vector size); the scalar tail of OpenCV uses the integer
// (v + 2^21) >> 22 instead, and the two can differ by one on rare values.

import type { Raster } from '../pipelines/image-ops.js';

export type Cv2Interpolation = 'nearest' | 'area' | 'cubic';

/** An interleaved float32 image (the extension's float32 inpaint maps). */
export interface FloatRaster {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Float32Array;
}

const f32 = Math.fround;
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS; // INTER_RESIZE_COEF_SCALE

/** cvRound / saturate_cast<uchar>(float|double): round half to even, then clamp to 0..255. */
export function saturateU8(v: number): number {
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1; // Math.round rounds .5 up; banker's rounding wants even
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** cvRound to int (round half to even), as saturate_cast<short>/cvRound do for in-range values. */
function cvRound(v: number): number {
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

type AnyImage = Raster | FloatRaster;

function isFloat(img: AnyImage): img is FloatRaster {
  return img.data instanceof Float32Array;
}

/**
 * cv2.resize(src, (dstW, dstH), interpolation=…).
 *
 * @example cv2Resize({ width: 2, height: 2, channels: 1, data: Uint8Array.of(0, 255, 255, 0) }, 1, 1, 'area').data // [128]
 */
export function cv2Resize(src: Raster, dstW: number, dstH: number, interp: Cv2Interpolation): Raster;
export function cv2Resize(src: FloatRaster, dstW: number, dstH: number, interp: Cv2Interpolation): FloatRaster;
export function cv2Resize(src: AnyImage, dstW: number, dstH: number, interp: Cv2Interpolation): AnyImage {
  if (!(dstW > 0 && dstH > 0 && Number.isInteger(dstW) && Number.isInteger(dstH))) {
    throw new RangeError(`cv2Resize: destination size must be positive integers, got ${dstW}x${dstH}`);
  }
  if (src.width === dstW && src.height === dstH) return { ...src, data: src.data.slice() } as AnyImage;
  const invX = dstW / src.width, invY = dstH / src.height;
  const scaleX = 1 / invX, scaleY = 1 / invY;
  if (interp === 'nearest') return resizeNearest(src, dstW, dstH, invX, invY);
  if (interp === 'area' && scaleX >= 1 && scaleY >= 1) {
    const isx = Math.round(scaleX), isy = Math.round(scaleY);
    if (Math.abs(scaleX - isx) < Number.EPSILON && Math.abs(scaleY - isy) < Number.EPSILON) {
      return resizeAreaFast(src, dstW, dstH, isx, isy);
    }
    return resizeArea(src, dstW, dstH, scaleX, scaleY);
  }
  return resizeGeneric(src, dstW, dstH, scaleX, scaleY, invX, invY, interp);
}

function alloc(src: AnyImage, w: number, h: number): AnyImage {
  const n = w * h * src.channels;
  return isFloat(src)
    ? { width: w, height: h, channels: src.channels, data: new Float32Array(n) }
    : { width: w, height: h, channels: src.channels, data: new Uint8Array(n) };
}

function resizeNearest(src: AnyImage, dw: number, dh: number, invX: number, invY: number): AnyImage {
  const out = alloc(src, dw, dh);
  const cn = src.channels;
  const ifx = 1 / invX, ify = 1 / invY;
  const xs = new Int32Array(dw);
  for (let x = 0; x < dw; x++) xs[x] = Math.min(Math.floor(x * ifx), src.width - 1);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(Math.floor(y * ify), src.height - 1);
    for (let x = 0; x < dw; x++) {
      const si = (sy * src.width + xs[x]!) * cn, di = (y * dw + x) * cn;
      for (let c = 0; c < cn; c++) out.data[di + c] = src.data[si + c]!;
    }
  }
  return out;
}

function resizeAreaFast(src: AnyImage, dw: number, dh: number, sx: number, sy: number): AnyImage {
  const out = alloc(src, dw, dh);
  const cn = src.channels, sw = src.width;
  const float = isFloat(src);
  const area = sx * sy;
  const scale = f32(1 / area);
  // ResizeAreaFastVec: the 2×2 integer shortcut for 1, 3 and 4 channels (SIMD and scalar alike).
  const twoByTwo = !float && sx === 2 && sy === 2 && (cn === 1 || cn === 3 || cn === 4);
  for (let dy = 0; dy < dh; dy++) {
    for (let dx = 0; dx < dw; dx++) {
      for (let c = 0; c < cn; c++) {
        let sum = 0;
        for (let ky = 0; ky < sy; ky++) {
          const row = (dy * sy + ky) * sw;
          for (let kx = 0; kx < sx; kx++) {
            const v = src.data[(row + dx * sx + kx) * cn + c]!;
            sum = float ? f32(sum + v) : sum + v;
          }
        }
        const o = (dy * dw + dx) * cn + c;
        if (twoByTwo) out.data[o] = (sum + 2) >> 2;
        else if (float) out.data[o] = f32(sum * scale);
        else out.data[o] = saturateU8(f32(sum * scale));
      }
    }
  }
  return out;
}

interface AreaTab {
  di: Int32Array;
  si: Int32Array;
  alpha: Float32Array;
  size: number;
}

/** computeResizeAreaTab: for each destination cell, the source cells it covers and their weights. */
function areaTab(ssize: number, dsize: number, scale: number): AreaTab {
  const di = new Int32Array(ssize * 2 + 2), si = new Int32Array(ssize * 2 + 2), alpha = new Float32Array(ssize * 2 + 2);
  let k = 0;
  for (let dx = 0; dx < dsize; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1), sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) {
      di[k] = dx;
      si[k] = sx1 - 1;
      alpha[k++] = (sx1 - fsx1) / cellWidth;
    }
    for (let sx = sx1; sx < sx2; sx++) {
      di[k] = dx;
      si[k] = sx;
      alpha[k++] = 1.0 / cellWidth;
    }
    if (fsx2 - sx2 > 1e-3) {
      di[k] = dx;
      si[k] = sx2;
      alpha[k++] = Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth;
    }
  }
  return { di, si, alpha, size: k };
}

function resizeArea(src: AnyImage, dw: number, dh: number, scaleX: number, scaleY: number): AnyImage {
  const out = alloc(src, dw, dh);
  const cn = src.channels, sw = src.width;
  const float = isFloat(src);
  const xt = areaTab(src.width, dw, scaleX);
  const yt = areaTab(src.height, dh, scaleY);
  const width = dw * cn;
  const buf = new Float32Array(width);
  const sum = new Float32Array(width);
  const store = (dy: number): void => {
    for (let x = 0; x < width; x++) out.data[dy * width + x] = float ? sum[x]! : saturateU8(sum[x]!);
  };
  let prevDy = yt.di[0]!;
  for (let j = 0; j < yt.size; j++) {
    const beta = yt.alpha[j]!;
    const dy = yt.di[j]!;
    const row = yt.si[j]! * sw * cn;
    buf.fill(0);
    for (let k = 0; k < xt.size; k++) {
      const dxn = xt.di[k]! * cn, sxn = row + xt.si[k]! * cn, a = xt.alpha[k]!;
      for (let c = 0; c < cn; c++) buf[dxn + c] = f32(buf[dxn + c]! + f32(src.data[sxn + c]! * a));
    }
    if (dy !== prevDy) {
      store(prevDy);
      for (let x = 0; x < width; x++) sum[x] = f32(beta * buf[x]!);
      prevDy = dy;
    } else {
      for (let x = 0; x < width; x++) sum[x] = f32(sum[x]! + f32(beta * buf[x]!));
    }
  }
  store(prevDy);
  return out;
}

/** interpolateCubic (A = −0.75), in float32 as OpenCV computes it. */
function cubicCoeffs(x: number, out: Float32Array): void {
  const A = -0.75;
  const x1 = f32(x + 1);
  out[0] = f32(f32(f32(f32(f32(f32(A * x1) - f32(5 * A)) * x1) + f32(8 * A)) * x1) - f32(4 * A));
  out[1] = f32(f32(f32(f32(f32(f32(A + 2) * x) - f32(A + 3)) * x) * x) + 1);
  const y = f32(1 - x);
  out[2] = f32(f32(f32(f32(f32(f32(A + 2) * y) - f32(A + 3)) * y) * y) + 1);
  out[3] = f32(f32(f32(1 - out[0]!) - out[1]!) - out[2]!);
}

/** Bilinear weights of OpenCV's area mode when upscaling an axis (and fx/fy handling). */
function axisTaps(
  dsize: number,
  ssize: number,
  scale: number,
  inv: number,
  interp: 'area' | 'cubic',
  axis: 'x' | 'y',
): { ofs: Int32Array; w: Float32Array; ksize: number } {
  const ksize = interp === 'cubic' ? 4 : 2;
  const ofs = new Int32Array(dsize);
  const w = new Float32Array(dsize * ksize);
  const cbuf = new Float32Array(4);
  for (let d = 0; d < dsize; d++) {
    let s: number, f: number;
    if (interp === 'cubic') {
      f = f32((d + 0.5) * scale - 0.5);
      s = Math.floor(f);
      f = f32(f - s);
    } else {
      s = Math.floor(d * scale);
      f = f32(d + 1 - (s + 1) * inv);
      f = f <= 0 ? 0 : f32(f - Math.floor(f));
      // Only the x axis snaps its edge taps (hal::resize); rows are clamped when read.
      if (axis === 'x' && s < 0) (f = 0), (s = 0);
      if (axis === 'x' && s >= ssize - 1) (f = 0), (s = ssize - 1);
    }
    ofs[d] = s;
    if (interp === 'cubic') {
      cubicCoeffs(f, cbuf);
      for (let k = 0; k < 4; k++) w[d * 4 + k] = cbuf[k]!;
    } else {
      w[d * 2] = f32(1 - f);
      w[d * 2 + 1] = f;
    }
  }
  return { ofs, w, ksize };
}

function resizeGeneric(
  src: AnyImage,
  dw: number,
  dh: number,
  scaleX: number,
  scaleY: number,
  invX: number,
  invY: number,
  interp: Cv2Interpolation,
): AnyImage {
  const mode = interp === 'cubic' ? 'cubic' : 'area';
  const out = alloc(src, dw, dh);
  const cn = src.channels, sw = src.width, sh = src.height;
  const float = isFloat(src);
  const xt = axisTaps(dw, sw, scaleX, invX, mode, 'x');
  const yt = axisTaps(dh, sh, scaleY, invY, mode, 'y');
  const k = xt.ksize, half = k / 2;
  // 8-bit: fixed-point weights (saturate_cast<short>(w · 2048)).
  const ia = Int32Array.from(xt.w, (v) => cvRound(f32(v * COEF_SCALE)));
  const ib = Int32Array.from(yt.w, (v) => cvRound(f32(v * COEF_SCALE)));
  const width = dw * cn;
  // Horizontal pass for every source row (int for 8-bit, float32 otherwise).
  const rows: (Int32Array | Float32Array)[] = [];
  for (let y = 0; y < sh; y++) {
    const r = float ? new Float32Array(width) : new Int32Array(width);
    const base = y * sw * cn;
    for (let dx = 0; dx < dw; dx++) {
      const sx0 = xt.ofs[dx]! - (half - 1);
      for (let c = 0; c < cn; c++) {
        let v = 0;
        for (let j = 0; j < k; j++) {
          const sx = Math.min(Math.max(sx0 + j, 0), sw - 1);
          const p = src.data[base + sx * cn + c]!;
          v = float ? f32(v + f32(p * xt.w[dx * k + j]!)) : v + p * ia[dx * k + j]!;
        }
        r[dx * cn + c] = v;
      }
    }
    rows.push(r);
  }
  const scale2 = f32(1 / (COEF_SCALE * COEF_SCALE));
  for (let dy = 0; dy < dh; dy++) {
    const sy0 = yt.ofs[dy]! - (half - 1);
    const taps = Array.from({ length: k }, (_, j) => rows[Math.min(Math.max(sy0 + j, 0), sh - 1)]!);
    const o = dy * width;
    if (float) {
      const b = Array.from({ length: k }, (_, j) => yt.w[dy * k + j]!);
      for (let x = 0; x < width; x++) {
        // VResizeCubicVec_32f / VResizeLinearVec_32f: innermost product first.
        let s = f32(taps[k - 1]![x]! * b[k - 1]!);
        for (let j = k - 2; j >= 0; j--) s = f32(f32(taps[j]![x]! * b[j]!) + s);
        out.data[o + x] = s;
      }
    } else if (k === 4) {
      const b = Array.from({ length: 4 }, (_, j) => f32(ib[dy * 4 + j]! * scale2));
      for (let x = 0; x < width; x++) {
        let s = f32(f32(taps[3]![x]!) * b[3]!);
        for (let j = 2; j >= 0; j--) s = f32(f32(f32(taps[j]![x]!) * b[j]!) + s);
        out.data[o + x] = saturateU8(s);
      }
    } else {
      // VResizeLinearVec_32s8u (the SIMD kernel): ((b0·(S0 >> 4)) >> 16 + (b1·(S1 >> 4)) >> 16 + 2) >> 2.
      const b0 = ib[dy * 2]!, b1 = ib[dy * 2 + 1]!;
      for (let x = 0; x < width; x++) {
        const v = (((b0 * (taps[0]![x]! >> 4)) >> 16) + ((b1 * (taps[1]![x]! >> 4)) >> 16) + 2) >> 2;
        out.data[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

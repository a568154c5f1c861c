// cv2.GaussianBlur(img, (0, 0), sigma) on float32 images, as OpenCV 4.x's generic separable path
// computes it: kernel size cvRound(σ·4·2 + 1) | 1 (non-8-bit depth), the kernel of
// getGaussianKernelBitExact (exp(−d²/2σ²) normalised in double, then cast to float32), a row pass
// then a column pass in float32 with BORDER_REFLECT_101. Summation order follows OpenCV's filters:
// rows k = 0…n−1 one after another (RowFilter; the symmetric 5-tap SymmRowSmallFilter gives the
// same order), columns centre first then symmetric pairs (SymmColumnFilter). Builds that route
// the call to IPP or fuse multiply-adds may differ in the last float bits.

import type { FloatRaster } from './cv2-resize.js';

const f32 = Math.fround;

function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * n - 2 - i;
  }
  return i;
}

/** The float32 Gaussian kernel OpenCV builds for `size` taps and `sigma`. */
export function cv2GaussianKernel(size: number, sigma: number): Float32Array {
  const sig = sigma > 0 ? sigma : ((size - 1) * 0.5 - 1) * 0.3 + 0.8;
  const scale2 = -0.125 / (sig * sig);
  const half = (size - 1) >> 1;
  const values: number[] = [];
  let sum = 0;
  for (let i = 0, x = 1 - size; i < half; i++, x += 2) {
    const t = Math.exp(x * x * scale2);
    values.push(t);
    sum += t;
  }
  sum *= 2;
  sum += 1;
  if ((size & 1) === 0) sum += 1;
  const mul = 1 / sum;
  const k = new Float32Array(size);
  for (let i = 0; i < half; i++) {
    k[i] = values[i]! * mul;
    k[size - 1 - i] = values[i]! * mul;
  }
  k[half] = mul;
  return k;
}

/**
 * cv2.GaussianBlur(src, (0, 0), sigma) for a float32 image of any channel count.
 *
 * @example cv2GaussianBlurF32({ width: 1, height: 1, channels: 1, data: Float32Array.of(7) }, 2).data // [7]
 */
export function cv2GaussianBlurF32(src: FloatRaster, sigma: number): FloatRaster {
  const size = Math.round(sigma * 4 * 2 + 1) | 1;
  const k = cv2GaussianKernel(size, sigma);
  const half = size >> 1;
  const { width: w, height: h, channels: cn } = src;
  const tmp = new Float32Array(w * h * cn);
  for (let y = 0; y < h; y++) {
    const row = y * w * cn;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < cn; c++) {
        let s = f32(k[0]! * src.data[row + reflect101(x - half, w) * cn + c]!);
        for (let j = 1; j < size; j++) s = f32(s + f32(k[j]! * src.data[row + reflect101(x - half + j, w) * cn + c]!));
        tmp[row + x * cn + c] = s;
      }
    }
  }
  const out = new Float32Array(w * h * cn);
  const stride = w * cn;
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < stride; i++) {
      let s = f32(k[half]! * tmp[y * stride + i]!);
      for (let j = 1; j <= half; j++) {
        const a = tmp[reflect101(y + j, h) * stride + i]!, b = tmp[reflect101(y - j, h) * stride + i]!;
        s = f32(s + f32(k[half + j]! * f32(a + b)));
      }
      out[y * stride + i] = s;
    }
  }
  return { width: w, height: h, channels: cn, data: out };
}

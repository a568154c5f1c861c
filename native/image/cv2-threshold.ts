// cv2.threshold on 8-bit one-channel images: THRESH_BINARY with a fixed value, and THRESH_OTSU's
// threshold (getThreshVal_Otsu_8u: maximise the between-class variance over the histogram in
// double precision, skipping classes lighter than FLT_EPSILON, first maximum wins).

import type { Raster } from '../pipelines/image-ops.js';

const FLT_EPSILON = 1.1920928955078125e-7;

/**
 * The Otsu threshold OpenCV picks for a one-channel 8-bit image.
 *
 * @example otsuThreshold({ width: 4, height: 1, channels: 1, data: Uint8Array.of(10, 10, 200, 200) }) // 10
 */
export function otsuThreshold(src: Raster): number {
  if (src.channels !== 1) throw new RangeError(`otsuThreshold expects one channel, got ${src.channels}`);
  const h = new Float64Array(256);
  for (let i = 0; i < src.data.length; i++) h[src.data[i]!]!++;
  const scale = 1 / src.data.length;
  let mu = 0;
  for (let i = 0; i < 256; i++) mu += i * h[i]!;
  mu *= scale;
  let mu1 = 0, q1 = 0, maxSigma = 0, maxVal = 0;
  for (let i = 0; i < 256; i++) {
    const pi = h[i]! * scale;
    mu1 *= q1;
    q1 += pi;
    const q2 = 1 - q1;
    if (Math.min(q1, q2) < FLT_EPSILON || Math.max(q1, q2) > 1 - FLT_EPSILON) continue;
    mu1 = (mu1 + i * pi) / q1;
    const mu2 = (mu - q1 * mu1) / q2;
    const sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > maxSigma) {
      maxSigma = sigma;
      maxVal = i;
    }
  }
  return maxVal;
}

/**
 * cv2.threshold(src, thresh, maxval, THRESH_BINARY): maxval where src > floor(thresh), else 0.
 *
 * @example thresholdBinary({ width: 3, height: 1, channels: 1, data: Uint8Array.of(5, 6, 7) }, 6, 255).data // [0, 0, 255]
 */
export function thresholdBinary(src: Raster, thresh: number, maxval: number): Raster {
  const t = Math.floor(thresh);
  const out = new Uint8Array(src.data.length);
  for (let i = 0; i < out.length; i++) out[i] = src.data[i]! > t ? maxval : 0;
  return { ...src, data: out };
}

/** cv2.threshold(src, 0, 255, THRESH_BINARY + THRESH_OTSU)[1]. */
export function thresholdOtsu(src: Raster): Raster {
  return thresholdBinary(src, otsuThreshold(src), 255);
}

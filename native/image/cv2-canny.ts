// cv2.Canny(img, low, high) with aperture 3, as OpenCV 4.x (modules/imgproc/src/canny.cpp) computes
// it on 8-bit images of 1 or 3 channels:
//   1. Sobel dx, dy (3×3, int16, BORDER_REPLICATE) per channel.
//   2. Magnitude per channel: |dx| + |dy| (L1) or dx² + dy² (L2, thresholds squared); with several
//      channels each pixel keeps the channel of largest magnitude (the first on ties) and its dx, dy.
//   3. Non-maximum suppression in 4 sectors with the fixed-point tan(22.5°) test (CANNY_SHIFT 15);
//      horizontal: m > left && m >= right; vertical: m > up && m >= down; diagonal: strict on
//      both sides. Magnitudes outside the image are 0. Only pixels with m > low are candidates.
//   4. Hysteresis: candidates with m > high seed edges, which grow through 8-connected candidates.
//      (OpenCV's stack order and its per-row shortcuts do not change the set it finds.)
// Output: 255 on edges, 0 elsewhere, one channel.

import type { Raster } from '../pipelines/image-ops.js';

const CANNY_SHIFT = 15;
const TG22 = Math.trunc(0.4142135623730950488016887242097 * (1 << CANNY_SHIFT) + 0.5);

/** Sobel 3×3 derivatives of one channel, replicated borders: [dx, dy] as int arrays. */
function sobel3(src: Raster, c: number): [Int32Array, Int32Array] {
  const { width: w, height: h, channels: cn, data } = src;
  const dx = new Int32Array(w * h), dy = new Int32Array(w * h);
  const at = (x: number, y: number): number => data[((y < 0 ? 0 : y >= h ? h - 1 : y) * w + (x < 0 ? 0 : x >= w ? w - 1 : x)) * cn + c]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = at(x - 1, y - 1), b = at(x, y - 1), cc = at(x + 1, y - 1);
      const d = at(x - 1, y), f = at(x + 1, y);
      const g = at(x - 1, y + 1), hh = at(x, y + 1), i = at(x + 1, y + 1);
      dx[y * w + x] = cc - a + 2 * (f - d) + i - g;
      dy[y * w + x] = g - a + 2 * (hh - b) + i - cc;
    }
  }
  return [dx, dy];
}

/**
 * cv2.Canny(src, low, high, apertureSize=3, L2gradient=l2) on a 1- or 3-channel 8-bit image.
 *
 * @example
 * // a vertical step 0|255 in a 4×3 gray image: edges on the two columns beside the step
 * cv2Canny({ width: 4, height: 3, channels: 1, data: Uint8Array.of(0,0,255,255, 0,0,255,255, 0,0,255,255) }, 100, 200).data
 * // → [0,255,0,0, 0,255,0,0, 0,255,0,0]
 */
export function cv2Canny(src: Raster, low: number, high: number, l2 = false): Raster {
  const { width: w, height: h, channels: cn } = src;
  if (low > high) [low, high] = [high, low];
  if (l2) {
    low = Math.min(32767, low);
    high = Math.min(32767, high);
    if (low > 0) low *= low;
    if (high > 0) high *= high;
  }
  const lo = Math.floor(low), hi = Math.floor(high);
  const n = w * h;
  const mag = new Int32Array(n), gx = new Int32Array(n), gy = new Int32Array(n);
  for (let c = 0; c < cn; c++) {
    const [dx, dy] = sobel3(src, c);
    for (let i = 0; i < n; i++) {
      const m = l2 ? dx[i]! * dx[i]! + dy[i]! * dy[i]! : Math.abs(dx[i]!) + Math.abs(dy[i]!);
      // strictly greater: the first channel wins ties, as in OpenCV's maxIdx loop
      if (c === 0 || m > mag[i]!) {
        mag[i] = m;
        gx[i] = dx[i]!;
        gy[i] = dy[i]!;
      }
    }
  }
  const M = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : mag[y * w + x]!);
  // 0 = not an edge, 1 = candidate (passed NMS, m > low), 2 = edge
  const map = new Uint8Array(n);
  const stack: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const m = mag[i]!;
      if (m <= lo) continue;
      const xs = gx[i]!, ys = gy[i]!;
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << CANNY_SHIFT);
      const tg22x = ax * TG22;
      let keep: boolean;
      if (ay < tg22x) {
        keep = m > M(x - 1, y) && m >= M(x + 1, y);
      } else {
        const tg67x = tg22x + ax * (1 << (CANNY_SHIFT + 1));
        if (ay > tg67x) {
          keep = m > M(x, y - 1) && m >= M(x, y + 1);
        } else {
          const s = (xs ^ ys) < 0 ? -1 : 1;
          keep = m > M(x - s, y - 1) && m > M(x + s, y + 1);
        }
      }
      if (!keep) continue;
      if (m > hi) {
        map[i] = 2;
        stack.push(i);
      } else {
        map[i] = 1;
      }
    }
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w, y = (i - x) / w;
    for (let oy = -1; oy <= 1; oy++) {
      const yy = y + oy;
      if (yy < 0 || yy >= h) continue;
      for (let ox = -1; ox <= 1; ox++) {
        const xx = x + ox;
        if (xx < 0 || xx >= w) continue;
        const j = yy * w + xx;
        if (map[j] === 1) {
          map[j] = 2;
          stack.push(j);
        }
      }
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = map[i] === 2 ? 255 : 0;
  return { width: w, height: h, channels: 1, data: out };
}

// cv2.erode / cv2.dilate / cv2.morphologyEx(MORPH_HITMISS) on 8-bit images, one iteration, anchor
// at the kernel centre, the default border: OpenCV's morphologyDefaultBorderValue makes pixels
// outside the image never win (+inf for erode, −inf for dilate), i.e. they are simply ignored.
// Kernels are small row-major grids; a non-zero entry means "in the structuring element".

import type { Raster } from '../pipelines/image-ops.js';

/** A structuring element / hit-or-miss kernel: `rows × cols` values, row major. */
export interface Kernel {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** A `size × size` kernel of ones (np.ones((size, size))). */
export function onesKernel(size: number): Kernel {
  return { rows: size, cols: size, data: new Array<number>(size * size).fill(1) };
}

function morph(src: Raster, kernel: Kernel, op: 'erode' | 'dilate'): Raster {
  const { width: w, height: h, channels: cn, data } = src;
  const ay = kernel.rows >> 1, ax = kernel.cols >> 1;
  const offsets: [number, number][] = [];
  for (let ky = 0; ky < kernel.rows; ky++) {
    for (let kx = 0; kx < kernel.cols; kx++) if (kernel.data[ky * kernel.cols + kx]) offsets.push([kx - ax, ky - ay]);
  }
  if (offsets.length === 0) return { width: w, height: h, channels: cn, data: data.slice() };
  if (offsets.length === kernel.rows * kernel.cols) {
    // A full rectangle: the min/max separates into a row pass and a column pass (same values,
    // the ignored border stays ignored in both).
    const rows = morph1d(data, w, h, cn, ax, kernel.cols - 1 - ax, true, op);
    return { width: w, height: h, channels: cn, data: morph1d(rows, w, h, cn, ay, kernel.rows - 1 - ay, false, op) };
  }
  const out = new Uint8Array(data.length);
  const erode = op === 'erode';
  const deltas = offsets.map(([ox, oy]) => (oy * w + ox) * cn);
  for (let y = 0; y < h; y++) {
    const interiorY = y >= ay && y < h - (kernel.rows - 1 - ay);
    for (let x = 0; x < w; x++) {
      const interior = interiorY && x >= ax && x < w - (kernel.cols - 1 - ax);
      for (let c = 0; c < cn; c++) {
        const i = (y * w + x) * cn + c;
        let v = erode ? 255 : 0;
        if (interior) {
          for (const d of deltas) {
            const p = data[i + d]!;
            if (erode ? p < v : p > v) v = p;
          }
        } else {
          for (const [ox, oy] of offsets) {
            const xx = x + ox, yy = y + oy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue; // the default border never wins
            const p = data[(yy * w + xx) * cn + c]!;
            if (erode ? p < v : p > v) v = p;
          }
        }
        out[i] = v;
      }
    }
  }
  return { width: w, height: h, channels: cn, data: out };
}

/** Min/max over [−before, +after] along rows (horizontal) or columns, out-of-image cells ignored. */
function morph1d(
  data: Uint8Array,
  w: number,
  h: number,
  cn: number,
  before: number,
  after: number,
  horizontal: boolean,
  op: 'erode' | 'dilate',
): Uint8Array {
  const out = new Uint8Array(data.length);
  const erode = op === 'erode';
  const n = horizontal ? w : h;
  const step = horizontal ? cn : w * cn;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pos = horizontal ? x : y;
      const lo = Math.max(0, pos - before), hi = Math.min(n - 1, pos + after);
      for (let c = 0; c < cn; c++) {
        const i = (y * w + x) * cn + c;
        const base = i - pos * step;
        let v = erode ? 255 : 0;
        for (let p = lo; p <= hi; p++) {
          const q = data[base + p * step]!;
          if (erode ? q < v : q > v) v = q;
        }
        out[i] = v;
      }
    }
  }
  return out;
}

/**
 * cv2.erode(src, kernel): the minimum over the kernel's non-zero cells.
 *
 * @example cv2Erode({ width: 3, height: 1, channels: 1, data: Uint8Array.of(9, 5, 7) }, onesKernel(3)).data // [5, 5, 5]
 */
export function cv2Erode(src: Raster, kernel: Kernel): Raster {
  return morph(src, kernel, 'erode');
}

/**
 * cv2.dilate(src, kernel): the maximum over the kernel's non-zero cells.
 *
 * @example cv2Dilate({ width: 3, height: 1, channels: 1, data: Uint8Array.of(9, 5, 7) }, onesKernel(3)).data // [9, 9, 7]
 */
export function cv2Dilate(src: Raster, kernel: Kernel): Raster {
  return morph(src, kernel, 'dilate');
}

/**
 * cv2.morphologyEx(src, MORPH_HITMISS, kernel) on a one-channel image: kernel 1 = must be set,
 * −1 = must be clear, 0 = don't care. OpenCV computes erode(src, k==1) & erode(~src, k==−1), so
 * outside the image every condition holds.
 */
export function cv2HitMiss(src: Raster, kernel: Kernel): Raster {
  if (src.channels !== 1) throw new RangeError(`cv2HitMiss expects a one-channel image, got ${src.channels} channels`);
  const { width: w, height: h, data } = src;
  const ay = kernel.rows >> 1, ax = kernel.cols >> 1;
  const hit: [number, number][] = [], miss: [number, number][] = [];
  for (let ky = 0; ky < kernel.rows; ky++) {
    for (let kx = 0; kx < kernel.cols; kx++) {
      const k = kernel.data[ky * kernel.cols + kx]!;
      if (k === 1) hit.push([kx - ax, ky - ay]);
      else if (k === -1) miss.push([kx - ax, ky - ay]);
    }
  }
  // Check the centre first: on sparse binary maps most pixels fail there.
  hit.sort((a, b) => Math.abs(a[0]) + Math.abs(a[1]) - (Math.abs(b[0]) + Math.abs(b[1])));
  if (hit.length === 0 && miss.length === 0 && !Array.from(kernel.data).some((k) => k !== 0)) return { ...src, data: data.slice() };
  // Per pixel: erode(src, k == 1) & erode(255 − src, k == −1), written out directly (same values,
  // no intermediate images; a pixel stops at the first cell that zeroes it).
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let e1 = 255;
      for (const [ox, oy] of hit) {
        const xx = x + ox, yy = y + oy;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        const v = data[yy * w + xx]!;
        if (v < e1) e1 = v;
        if (e1 === 0) break;
      }
      if (e1 === 0) continue;
      let e2 = 255;
      for (const [ox, oy] of miss) {
        const xx = x + ox, yy = y + oy;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        const v = 255 - data[yy * w + xx]!;
        if (v < e2) e2 = v;
        if (e2 === 0) break;
      }
      out[y * w + x] = e1 & e2;
    }
  }
  return { width: w, height: h, channels: 1, data: out };
}

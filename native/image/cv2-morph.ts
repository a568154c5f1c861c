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
  const out = new Uint8Array(data.length);
  if (offsets.length === 0) {
    out.set(data);
    return { width: w, height: h, channels: cn, data: out };
  }
  const erode = op === 'erode';
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < cn; c++) {
        let v = erode ? 255 : 0;
        for (const [ox, oy] of offsets) {
          const xx = x + ox, yy = y + oy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue; // the default border never wins
          const p = data[(yy * w + xx) * cn + c]!;
          if (erode ? p < v : p > v) v = p;
        }
        out[(y * w + x) * cn + c] = v;
      }
    }
  }
  return { width: w, height: h, channels: cn, data: out };
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
  const n = src.data.length;
  let anyNonZero = false;
  const hit: number[] = [], miss: number[] = [];
  for (let i = 0; i < kernel.rows * kernel.cols; i++) {
    const k = kernel.data[i]!;
    if (k !== 0) anyNonZero = true;
    hit.push(k === 1 ? 1 : 0);
    miss.push(k === -1 ? 1 : 0);
  }
  if (!anyNonZero) return { ...src, data: src.data.slice() };
  const full = (): Uint8Array => new Uint8Array(n).fill(255);
  const e1 = hit.some(Boolean) ? cv2Erode(src, { ...kernel, data: hit }).data : full();
  let e2: Uint8Array;
  if (miss.some(Boolean)) {
    const inv = new Uint8Array(n);
    for (let i = 0; i < n; i++) inv[i] = 255 - src.data[i]!;
    e2 = cv2Erode({ ...src, data: inv }, { ...kernel, data: miss }).data;
  } else e2 = full();
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = e1[i]! & e2[i]!;
  return { width: src.width, height: src.height, channels: 1, data: out };
}

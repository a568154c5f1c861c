// Pillow's Image.resize((w, h)) for 8-bit single-channel ("L") images with its default filter for
// that mode, BICUBIC (a = −0.5): coefficients computed in double with the support widened by the
// scale when shrinking, normalised, converted to 22-bit fixed point, horizontal pass then vertical
// pass with uint8 rounding and clipping in between (libImaging/Resample.c). ADetailer resizes
// segmentation masks this way (`to_pil_image(mask).resize(image.size)`).
import type { Raster } from '../pipelines/image-ops.js';

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  bounds: Int32Array;
  kk: Int32Array;
}

function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax ? (ww !== 0 ? k[x] / ww : k[x]) : 0;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  const x = Math.floor(v / (1 << PRECISION_BITS));
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/** PIL `Image.resize((width, height))` of an L image (BICUBIC). Equal sizes → a copy. */
export function pillowResizeL(src: Raster, width: number, height: number): Raster {
  if (src.channels !== 1) throw new Error('pillowResizeL needs a one-channel raster');
  let cur = src;
  if (width !== cur.width) {
    const c = precompute(cur.width, width);
    const out = new Uint8Array(width * cur.height);
    for (let y = 0; y < cur.height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1];
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < xmax; x++) ss += cur.data[y * cur.width + x + xmin] * c.kk[xx * c.ksize + x];
        out[y * width + xx] = clip8(ss);
      }
    }
    cur = { width, height: cur.height, channels: 1, data: out };
  }
  if (height !== cur.height) {
    const c = precompute(cur.height, height);
    const out = new Uint8Array(width * height);
    for (let yy = 0; yy < height; yy++) {
      const ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1];
      for (let x = 0; x < width; x++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ymax; y++) ss += cur.data[(y + ymin) * width + x] * c.kk[yy * c.ksize + y];
        out[yy * width + x] = clip8(ss);
      }
    }
    cur = { width, height, channels: 1, data: out };
  }
  return cur === src ? { ...src, data: src.data.slice() } : cur;
}

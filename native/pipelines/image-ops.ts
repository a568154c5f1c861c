// Pixel-level helpers for img2img and inpainting, following AUTOMATIC1111's processing.py and
// masking.py: binary masks, the mask blur, the "only masked" crop region, masked-content fill and
// the overlay that pastes the untouched original back outside the mask. Pure functions on plain
// interleaved buffers so they are testable without an image library; resizing lives in resize.ts.

/** Interleaved 8-bit pixels, `channels` per pixel (1 = mask, 3 = RGB, 4 = RGBA). */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export interface CropRegion {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function makeRaster(width: number, height: number, channels: 1 | 3 | 4, fill = 0): Raster {
  const data = new Uint8Array(width * height * channels);
  if (fill) data.fill(fill);
  return { width, height, channels, data };
}

/**
 * A1111 v1.10's create_binary_mask: an RGBA mask whose alpha is not all opaque uses its alpha
 * channel, thresholded (`> 128`) when `round` (the API's `mask_round`, default true); any other mask
 * is only converted to luminance, never thresholded — a soft grey mask stays soft, as in A1111.
 */
export function toBinaryMask(mask: Raster, round: boolean): Raster {
  const out = makeRaster(mask.width, mask.height, 1);
  const n = mask.width * mask.height;
  let useAlpha = false;
  if (mask.channels === 4) {
    for (let i = 0; i < n; i++) {
      if (mask.data[i * 4 + 3]! !== 255) {
        useAlpha = true;
        break;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    let v: number;
    if (mask.channels === 1) v = mask.data[i]!;
    else if (useAlpha) v = mask.data[i * 4 + 3]!;
    else v = pilLuminance(mask.data, i * mask.channels);
    out.data[i] = round && useAlpha ? (v > 128 ? 255 : 0) : v;
  }
  return out;
}

/** PIL's convert('L') of the RGB at `offset`: L = R*299/1000 + G*587/1000 + B*114/1000, rounded. */
function pilLuminance(data: Uint8Array, offset: number): number {
  return Math.floor((data[offset]! * 19595 + data[offset + 1]! * 38470 + data[offset + 2]! * 7471 + 0x8000) / 65536);
}

/** PIL's `convert('L')` of any raster: a one-channel copy, or the luminance (alpha ignored). */
export function luminanceMask(src: Raster): Raster {
  const out = makeRaster(src.width, src.height, 1);
  const n = src.width * src.height;
  for (let i = 0; i < n; i++) out.data[i] = src.channels === 1 ? src.data[i]! : pilLuminance(src.data, i * src.channels);
  return out;
}

export function invertMask(mask: Raster): Raster {
  const out = makeRaster(mask.width, mask.height, 1);
  for (let i = 0; i < out.data.length; i++) out.data[i] = 255 - mask.data[i]!;
  return out;
}

/** cv2.getGaussianKernel for the kernel size A1111 picks: 2·int(2.5σ + 0.5) + 1. */
export function gaussianKernel(sigma: number): Float64Array {
  const size = 2 * Math.floor(2.5 * sigma + 0.5) + 1;
  const k = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - half;
    k[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

// cv2's default border (BORDER_REFLECT_101): dcb|abcd|cba.
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * n - 2 - i;
  }
  return i;
}

/**
 * The mask blur of A1111 (one cv2.GaussianBlur along x with σx, then one along y with σy), on a
 * one-channel mask. σ = 0 leaves that axis untouched.
 */
export function blurMask(mask: Raster, sigmaX: number, sigmaY: number): Raster {
  let cur = mask;
  if (sigmaX > 0) cur = blurAxis(cur, gaussianKernel(sigmaX), true);
  if (sigmaY > 0) cur = blurAxis(cur, gaussianKernel(sigmaY), false);
  return cur;
}

function blurAxis(src: Raster, k: Float64Array, horizontal: boolean): Raster {
  const { width: w, height: h } = src;
  const out = makeRaster(w, h, 1);
  const half = (k.length - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < k.length; j++) {
        const o = j - half;
        const sx = horizontal ? reflect101(x + o, w) : x;
        const sy = horizontal ? y : reflect101(y + o, h);
        acc += k[j]! * src.data[sy * w + sx]!;
      }
      out.data[y * w + x] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}

/** PIL getbbox of the non-zero pixels, padded and clamped (A1111 masking.get_crop_region_v2); null when empty. */
export function cropRegion(mask: Raster, pad: number): CropRegion | null {
  let x1 = mask.width, y1 = mask.height, x2 = -1, y2 = -1;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x]! !== 0) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
      }
    }
  }
  if (x2 < 0) return null;
  return {
    x1: Math.max(x1 - pad, 0),
    y1: Math.max(y1 - pad, 0),
    x2: Math.min(x2 + 1 + pad, mask.width),
    y2: Math.min(y2 + 1 + pad, mask.height),
  };
}

/**
 * Grows the crop region to the aspect ratio of the processing size, as A1111's
 * masking.expand_crop_region does (integer arithmetic included), so that the crop scales to
 * width×height without distortion.
 */
export function expandCropRegion(r: CropRegion, procW: number, procH: number, imgW: number, imgH: number): CropRegion {
  let { x1, y1, x2, y2 } = r;
  const ratioCrop = (x2 - x1) / (y2 - y1);
  const ratioProc = procW / procH;
  if (ratioCrop > ratioProc) {
    const desired = (x2 - x1) / ratioProc;
    const diff = Math.trunc(desired - (y2 - y1));
    y1 -= Math.floor(diff / 2);
    y2 += diff - Math.floor(diff / 2);
    if (y2 >= imgH) {
      const d = y2 - imgH;
      y2 -= d;
      y1 -= d;
    }
    if (y1 < 0) {
      y2 -= y1;
      y1 = 0;
    }
    if (y2 >= imgH) y2 = imgH;
  } else {
    const desired = (y2 - y1) * ratioProc;
    const diff = Math.trunc(desired - (x2 - x1));
    x1 -= Math.floor(diff / 2);
    x2 += diff - Math.floor(diff / 2);
    if (x2 >= imgW) {
      const d = x2 - imgW;
      x2 -= d;
      x1 -= d;
    }
    if (x1 < 0) {
      x2 -= x1;
      x1 = 0;
    }
    if (x2 >= imgW) x2 = imgW;
  }
  return { x1, y1, x2, y2 };
}

export function crop(src: Raster, r: CropRegion): Raster {
  const w = r.x2 - r.x1, h = r.y2 - r.y1, c = src.channels;
  const out = makeRaster(w, h, c);
  for (let y = 0; y < h; y++) {
    const from = ((r.y1 + y) * src.width + r.x1) * c;
    out.data.set(src.data.subarray(from, from + w * c), y * w * c);
  }
  return out;
}

/** Copies `src` into `dst` at (x, y), clipped to dst; both must have the same channel count. */
export function paste(dst: Raster, src: Raster, x: number, y: number): void {
  if (dst.channels !== src.channels) throw new Error(`paste: channel mismatch ${dst.channels} vs ${src.channels}`);
  const c = dst.channels;
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      const si = (sy * src.width + sx) * c, di = (dy * dst.width + dx) * c;
      for (let k = 0; k < c; k++) dst.data[di + k] = src.data[si + k]!;
    }
  }
}

/**
 * The overlay A1111 keeps for inpainting: the original RGB with alpha = 255 − mask, so compositing it
 * over the generated image restores every pixel outside the mask exactly.
 */
export function makeOverlay(original: Raster, maskForOverlay: Raster): Raster {
  if (original.channels !== 3) throw new Error('makeOverlay expects an RGB image');
  const out = makeRaster(original.width, original.height, 4);
  const n = original.width * original.height;
  for (let i = 0; i < n; i++) {
    // PIL pastes through "RGBa" (premultiplied) and back, which zeroes the colour where alpha is 0
    // and rounds elsewhere; composited results only differ where 0 < alpha < 255.
    out.data[i * 4] = original.data[i * 3]!;
    out.data[i * 4 + 1] = original.data[i * 3 + 1]!;
    out.data[i * 4 + 2] = original.data[i * 3 + 2]!;
    out.data[i * 4 + 3] = 255 - maskForOverlay.data[i]!;
  }
  return out;
}

/** Alpha-composites an RGBA overlay onto an RGB image of the same size (PIL alpha_composite, opaque base). */
export function compositeOverlay(base: Raster, overlay: Raster): Raster {
  if (base.channels !== 3 || overlay.channels !== 4) throw new Error('compositeOverlay expects RGB base and RGBA overlay');
  if (base.width !== overlay.width || base.height !== overlay.height) throw new Error('compositeOverlay: size mismatch');
  const out = makeRaster(base.width, base.height, 3);
  const n = base.width * base.height;
  for (let i = 0; i < n; i++) {
    const a = overlay.data[i * 4 + 3]!;
    for (let k = 0; k < 3; k++) {
      const s = overlay.data[i * 4 + k]!, d = base.data[i * 3 + k]!;
      out.data[i * 3 + k] = a === 255 ? s : a === 0 ? d : Math.round((s * a + d * (255 - a)) / 255);
    }
  }
  return out;
}

/**
 * Masked content "fill" (A1111 masking.fill): the masked area is replaced by successively less blurred
 * copies of the unmasked image, so the model starts from the surrounding colours.
 * `blurRgba` is injected so this stays a pure function (resize.ts supplies a sharp-based blur).
 */
export async function fillMasked(
  image: Raster,
  mask: Raster,
  blurRgba: (img: Raster, radius: number) => Promise<Raster>,
): Promise<Raster> {
  const { width: w, height: h } = image;
  const n = w * h;
  // Premultiplied RGBa of the unmasked pixels.
  const masked = makeRaster(w, h, 4);
  for (let i = 0; i < n; i++) {
    const a = 255 - mask.data[i]!;
    for (let k = 0; k < 3; k++) masked.data[i * 4 + k] = Math.round((image.data[i * 3 + k]! * a) / 255);
    masked.data[i * 4 + 3] = a;
  }
  const acc = new Float64Array(n * 4); // straight RGBA, starts transparent
  for (const [radius, repeats] of [
    [256, 1],
    [64, 1],
    [16, 2],
    [4, 4],
    [2, 2],
    [0, 1],
  ] as const) {
    const blurredPremul = radius > 0 ? await blurRgba(masked, radius) : masked;
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < n; i++) {
        const sa = blurredPremul.data[i * 4 + 3]! / 255;
        if (sa === 0) continue;
        const da = acc[i * 4 + 3]!;
        const oa = sa + da * (1 - sa);
        for (let k = 0; k < 3; k++) {
          const sc = blurredPremul.data[i * 4 + k]! / 255 / sa; // un-premultiply
          const dc = acc[i * 4 + k]!;
          acc[i * 4 + k] = (sc * sa + dc * da * (1 - sa)) / oa;
        }
        acc[i * 4 + 3] = oa;
      }
    }
  }
  const out = makeRaster(w, h, 3);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out.data[i * 3 + k] = Math.min(255, Math.max(0, Math.round(acc[i * 4 + k]! * 255)));
  }
  return out;
}

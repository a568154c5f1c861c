// The model-free preprocessors of sd-webui-controlnet v1.1.455, each as the extension computes it
// (scripts/preprocessor/model_free_preprocessors.py and legacy/processor.py), on RGB 8-bit input.
// Every one returns a 3-channel map (the extension's HWC3 of its result); none of them run a model.

import { makeRaster, type Raster } from '../../pipelines/image-ops.js';
import { cv2Canny } from '../../image/cv2-canny.js';
import { cv2GaussianBlurF32 } from '../../image/cv2-gaussian.js';
import { cv2Resize, type FloatRaster } from '../../image/cv2-resize.js';
import { ControlNetPreprocessError } from './preprocess-error.js';

const f32 = Math.fround;

/** Python's int() of a float: truncation toward zero. */
function pyInt(x: number): number {
  return Math.trunc(x);
}

/** np.round: half to even. */
export function npRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** 1 → 3 channels by repetition; 3 channels unchanged (HWC3 without alpha). */
export function grayToRgb(g: Raster): Raster {
  if (g.channels === 3) return g;
  const out = makeRaster(g.width, g.height, 3);
  for (let i = 0; i < g.width * g.height; i++) {
    const v = g.data[i * g.channels]!;
    out.data[i * 3] = v;
    out.data[i * 3 + 1] = v;
    out.data[i * 3 + 2] = v;
  }
  return out;
}

/**
 * HWC3 of annotator/util.py: gray → RGB, RGBA → RGB composited on white in float32
 * (color·α + 255·(1 − α), truncated to uint8), RGB unchanged.
 */
export function hwc3(x: Raster): Raster {
  if (x.channels === 3) return x;
  if (x.channels === 1) return grayToRgb(x);
  const out = makeRaster(x.width, x.height, 3);
  for (let i = 0; i < x.width * x.height; i++) {
    const a = f32(x.data[i * 4 + 3]! / 255);
    const inv = f32(1 - a);
    for (let c = 0; c < 3; c++) {
      const y = f32(f32(x.data[i * 4 + c]! * a) + f32(255 * inv));
      out.data[i * 3 + c] = Math.min(255, Math.max(0, Math.trunc(y)));
    }
  }
  return out;
}

/** pad64: how many rows/columns bring x up to a multiple of 64. */
function pad64(x: number): number {
  return Math.ceil(x / 64) * 64 - x;
}

export interface PaddedImage {
  padded: Raster;
  /** Size of the resized image before padding (what remove_pad crops back to). */
  width: number;
  height: number;
}

/**
 * resize_image_with_pad(img, resolution): scale so the short side is `resolution`
 * (INTER_CUBIC up, INTER_AREA down or same), then pad bottom/right to multiples of 64 by edge
 * replication.
 */
export function resizeImageWithPad(img: Raster, resolution: number): PaddedImage {
  const rgb = hwc3(img);
  const k = resolution / Math.min(rgb.height, rgb.width);
  const ht = pyInt(npRound(rgb.height * k));
  const wt = pyInt(npRound(rgb.width * k));
  if (!(ht >= 1 && wt >= 1)) {
    throw new ControlNetPreprocessError('bad_input', `processor resolution ${resolution} scales the ${rgb.width}x${rgb.height} image to nothing`);
  }
  const resized = cv2Resize(rgb, wt, ht, k > 1 ? 'cubic' : 'area');
  const hp = pad64(ht), wp = pad64(wt);
  const W = wt + wp, H = ht + hp;
  const padded = makeRaster(W, H, 3);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(y, ht - 1);
    for (let x = 0; x < W; x++) {
      const sx = Math.min(x, wt - 1);
      const si = (sy * wt + sx) * 3, di = (y * W + x) * 3;
      padded.data[di] = resized.data[si]!;
      padded.data[di + 1] = resized.data[si + 1]!;
      padded.data[di + 2] = resized.data[si + 2]!;
    }
  }
  return { padded, width: wt, height: ht };
}

/** remove_pad: the top-left `width × height` of a padded result. */
export function removePad(x: Raster, width: number, height: number): Raster {
  const out = makeRaster(width, height, x.channels);
  const rowLen = width * x.channels;
  for (let y = 0; y < height; y++) out.data.set(x.data.subarray(y * x.width * x.channels, y * x.width * x.channels + rowLen), y * rowLen);
  return out;
}

/** canny: cv2.Canny(padded RGB, int(low), int(high)), cropped, gray → RGB. */
export function preprocessCanny(img: Raster, res: number, low: number, high: number): Raster {
  const p = resizeImageWithPad(img, res);
  const edges = cv2Canny(p.padded, pyInt(low), pyInt(high));
  return grayToRgb(removePad(edges, p.width, p.height));
}

/** invert (from white bg & black line): 255 − HWC3(img). */
export function preprocessInvert(img: Raster): Raster {
  const rgb = hwc3(img);
  const out = makeRaster(rgb.width, rgb.height, 3);
  for (let i = 0; i < out.data.length; i++) out.data[i] = 255 - rgb.data[i]!;
  return out;
}

function toFloat(x: Raster): FloatRaster {
  return { width: x.width, height: x.height, channels: x.channels as 1 | 3 | 4, data: Float32Array.from(x.data) };
}

/**
 * scribble_xdog: difference of Gaussians (σ 0.5 and 5 on the padded float image), the channel
 * minimum of g2 − g1, and 255 where 2·(255 − dog) — uint8 arithmetic, so it wraps at 256 — exceeds
 * the threshold.
 */
export function preprocessScribbleXdog(img: Raster, res: number, threshold: number): Raster {
  const p = resizeImageWithPad(img, res);
  const x = toFloat(p.padded);
  const g1 = cv2GaussianBlurF32(x, 0.5).data;
  const g2 = cv2GaussianBlurF32(x, 5.0).data;
  const W = p.padded.width, H = p.padded.height;
  const out = makeRaster(W, H, 3);
  for (let i = 0; i < W * H; i++) {
    let m = Infinity;
    for (let c = 0; c < 3; c++) m = Math.min(m, f32(g2[i * 3 + c]! - g1[i * 3 + c]!));
    const dogF = f32(255 - m);
    const dog = Math.trunc(Math.min(255, Math.max(0, dogF))); // .clip(0, 255).astype(uint8)
    const v = (2 * (255 - dog)) & 255; // uint8 wrap-around
    if (v > threshold) out.data.fill(255, i * 3, i * 3 + 3);
  }
  return removePad(out, p.width, p.height);
}

/** threshold: 255 where the channel minimum of the padded image exceeds the threshold. */
export function preprocessThreshold(img: Raster, res: number, threshold: number): Raster {
  const p = resizeImageWithPad(img, res);
  const W = p.padded.width, H = p.padded.height, d = p.padded.data;
  const out = makeRaster(W, H, 3);
  for (let i = 0; i < W * H; i++) {
    if (Math.min(d[i * 3]!, d[i * 3 + 1]!, d[i * 3 + 2]!) > threshold) out.data.fill(255, i * 3, i * 3 + 3);
  }
  return removePad(out, p.width, p.height);
}

/** np.median of float32 values as numpy computes it (mean of the two middle values in float32). */
function medianF32(values: Float32Array): number {
  if (values.length === 0) return NaN;
  const s = Float32Array.from(values).sort();
  const n = s.length;
  if (n % 2 === 1) return s[(n - 1) / 2]!;
  return f32(f32(s[n / 2 - 1]! + s[n / 2]!) / 2);
}

/**
 * lineart_standard (from white bg & black line): intensity = channel minimum of (blur σ6 − x),
 * clipped to 0–255, divided by max(16, median of the values above 8), × 127, to uint8.
 */
export function preprocessLineartStandard(img: Raster, res: number): Raster {
  const p = resizeImageWithPad(img, res);
  const x = toFloat(p.padded);
  const g = cv2GaussianBlurF32(x, 6.0).data;
  const W = p.padded.width, H = p.padded.height, n = W * H;
  const intensity = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = Infinity;
    for (let c = 0; c < 3; c++) m = Math.min(m, f32(g[i * 3 + c]! - x.data[i * 3 + c]!));
    intensity[i] = Math.min(255, Math.max(0, m));
  }
  const med = medianF32(intensity.filter((v) => v > 8));
  // Python max(16, nan) is 16: the comparison with nan is false.
  const div = med > 16 ? med : 16;
  const out = makeRaster(W, H, 1);
  for (let i = 0; i < n; i++) {
    const v = f32(f32(intensity[i]! / div) * 127);
    out.data[i] = Math.trunc(Math.min(255, Math.max(0, v)));
  }
  return grayToRgb(removePad(out, p.width, p.height));
}

/** tile_resample: below a rate of 1.1 the image itself, else INTER_AREA down to int(size / rate). */
export function preprocessTileResample(img: Raster, rate: number): Raster {
  const rgb = hwc3(img);
  if (rate < 1.1) return rgb;
  const h = pyInt(rgb.height / rate), w = pyInt(rgb.width / rate);
  return cv2Resize(rgb, w, h, 'area');
}

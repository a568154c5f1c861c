// From a preprocessor's detected map to the control hint, as the extension's
// Script.detectmap_proc and its high_quality_resize (scripts/controlnet.py) compute it:
//   Just Resize      high_quality_resize to (w, h)
//   Crop and Resize  scale by max(h/H, w/W) to (round(W·k), round(H·k)), centre crop
//   Resize and Fill  scale by min(…), paste centred on the per-channel median of the four borders
// high_quality_resize: equal sizes are kept; 2 colours with min < 16 and max > 240 = binary (a
// one-pixel-edge map when 3×3 erode+dilate removes more than half of its bright values);
// 3–199 colours use INTER_NEAREST, otherwise INTER_AREA when shrinking, INTER_CUBIC when growing;
// binary results are averaged over channels and re-binarised (nake_nms + Otsu + lvmin_thin for
// one-pixel edges, Otsu alone otherwise). Inpaint maps ('inpaint' in the module id) are float32
// RGBA whose alpha (the mask) is resized alongside and thresholded at 127.

import { makeRaster, type Raster } from '../../pipelines/image-ops.js';
import { cv2Dilate, cv2Erode, onesKernel } from '../../image/cv2-morph.js';
import { cv2Resize, type Cv2Interpolation, type FloatRaster } from '../../image/cv2-resize.js';
import { thresholdOtsu } from '../../image/cv2-threshold.js';
import { lvminThin, nakeNms } from './lvmin-thin.js';
import { npRound } from './preprocessors.js';

export type ResizeModeName = 'Just Resize' | 'Crop and Resize' | 'Resize and Fill';

const f32 = Math.fround;

/** A detected map: 8-bit RGB, or float32 RGB + mask for inpaint modules. */
export type DetectedMap = Raster | FloatRaster;

function isFloat(m: DetectedMap): m is FloatRaster {
  return m.data instanceof Float32Array;
}

function uniqueColourCount(x: DetectedMap, cap: number): number {
  const seen = new Set<string | number>();
  const cn = x.channels;
  const n = x.width * x.height;
  for (let i = 0; i < n && seen.size < cap; i++) {
    if (!isFloat(x) && cn === 3) seen.add((x.data[i * 3]! << 16) | (x.data[i * 3 + 1]! << 8) | x.data[i * 3 + 2]!);
    else seen.add(Array.from(x.data.subarray(i * cn, i * cn + cn)).join(','));
  }
  return seen.size;
}

function minMax(x: DetectedMap): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function asU8(x: DetectedMap): Raster {
  return isFloat(x) ? { width: x.width, height: x.height, channels: x.channels as 1 | 3 | 4, data: Uint8Array.from(x.data) } : x;
}

function splitAlpha(x: FloatRaster): { rgb: FloatRaster; mask: FloatRaster } {
  const n = x.width * x.height;
  const rgb = new Float32Array(n * 3), mask = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = x.data[i * 4]!;
    rgb[i * 3 + 1] = x.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = x.data[i * 4 + 2]!;
    mask[i] = x.data[i * 4 + 3]!;
  }
  return { rgb: { width: x.width, height: x.height, channels: 3, data: rgb }, mask: { width: x.width, height: x.height, channels: 1, data: mask } };
}

/** high_quality_resize(x, (w, h)). */
export function highQualityResize(x: DetectedMap, w: number, h: number): DetectedMap {
  let mask: FloatRaster | undefined;
  let img: DetectedMap = x;
  if (x.channels === 4 && isFloat(x)) ({ rgb: img, mask } = splitAlpha(x));
  let y: DetectedMap = img;
  if (img.height !== h || img.width !== w) {
    const smaller = w * h < img.width * img.height;
    const bigger = w * h > img.width * img.height;
    const colours = uniqueColourCount(img, 200);
    let binary = false, onePixelEdge = false;
    if (colours === 2) {
      const [lo, hi] = minMax(img);
      binary = lo < 16 && hi > 240;
      if (binary) {
        const u = asU8(img);
        const k = onesKernel(3);
        const xc = cv2Dilate(cv2Erode(u, k), k).data;
        let onePixel = 0, all = 0;
        for (let i = 0; i < u.data.length; i++) {
          if (xc[i]! < u.data[i]!) onePixel++;
          if (u.data[i]! > 127) all++;
        }
        onePixelEdge = onePixel * 2 > all;
      }
    }
    const interp: Cv2Interpolation = colours > 2 && colours < 200 ? 'nearest' : smaller ? 'area' : 'cubic';
    y = isFloat(img) ? cv2Resize(img, w, h, interp) : cv2Resize(img, w, h, interp);
    if (mask) mask = cv2Resize(mask, w, h, interp);
    if (binary) {
      const cn = y.channels;
      let g = makeRaster(w, h, 1);
      for (let i = 0; i < w * h; i++) {
        let s = 0;
        for (let c = 0; c < cn; c++) s = f32(s + y.data[i * cn + c]!);
        const m = f32(s / cn);
        g.data[i] = Math.trunc(Math.min(255, Math.max(0, m)));
      }
      if (onePixelEdge) {
        g = lvminThin(thresholdOtsu(nakeNms(g)), bigger);
      } else {
        g = thresholdOtsu(g);
      }
      const rgb = makeRaster(w, h, 3);
      for (let i = 0; i < w * h; i++) rgb.data.fill(g.data[i]!, i * 3, i * 3 + 3);
      // np.stack of uint8 maps; an inpaint map is float32 again once its mask is concatenated.
      y = mask ? { width: w, height: h, channels: 3, data: Float32Array.from(rgb.data) } : rgb;
    }
  }
  if (!mask) return y;
  const n = w * h;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = y.data[i * 3 + c]!;
    out[i * 4 + 3] = mask.data[i]! > 127 ? 255 : 0;
  }
  return { width: w, height: h, channels: 4, data: out };
}

/** np.median over the border pixels of each channel, cast back to the map's dtype. */
function borderMedian(x: DetectedMap): number[] {
  const { width: w, height: h, channels: cn } = x;
  const out: number[] = [];
  for (let c = 0; c < cn; c++) {
    const v: number[] = [];
    for (let i = 0; i < w; i++) v.push(x.data[i * cn + c]!);
    for (let i = 0; i < w; i++) v.push(x.data[((h - 1) * w + i) * cn + c]!);
    for (let j = 0; j < h; j++) v.push(x.data[j * w * cn + c]!);
    for (let j = 0; j < h; j++) v.push(x.data[(j * w + w - 1) * cn + c]!);
    v.sort((a, b) => a - b);
    const n = v.length;
    const med = n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
    out.push(isFloat(x) ? f32(med) : Math.trunc(med));
  }
  return out;
}

function blank(like: DetectedMap, w: number, h: number): DetectedMap {
  const n = w * h * like.channels;
  return isFloat(like) ? { width: w, height: h, channels: like.channels, data: new Float32Array(n) } : { width: w, height: h, channels: like.channels, data: new Uint8Array(n) };
}

/** Copies the window of `src` at (sx, sy) of size (w, h) into `dst` at (dx, dy). */
function blit(dst: DetectedMap, src: DetectedMap, sx: number, sy: number, dx: number, dy: number, w: number, h: number): void {
  const cn = src.channels;
  for (let y = 0; y < h; y++) {
    const from = ((sy + y) * src.width + sx) * cn;
    const to = ((dy + y) * dst.width + dx) * cn;
    for (let i = 0; i < w * cn; i++) dst.data[to + i] = src.data[from + i]!;
  }
}

/**
 * detectmap_proc(detected_map, module, resize_mode, h, w): the map at the target size.
 *
 * @example
 * // a 48×64 map, Resize and Fill to 64×64: kept at 48×64, centred with 8 columns each side
 * applyResizeMode(map48x64, 'Resize and Fill', 64, 64)
 */
export function applyResizeMode(map: DetectedMap, mode: ResizeModeName, w: number, h: number): DetectedMap {
  if (mode === 'Just Resize') return highQualityResize(map, w, h);
  const oldH = map.height, oldW = map.width;
  const k0 = h / oldH, k1 = w / oldW;
  if (mode === 'Resize and Fill') {
    const k = Math.min(k0, k1);
    const colour = borderMedian(map);
    if (map.channels === 4) colour[3] = 255; // inpaint: the filled border is to be generated
    const bg = blank(map, w, h);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < map.channels; c++) bg.data[i * map.channels + c] = colour[c]!;
    const r = highQualityResize(map, npRound(oldW * k), npRound(oldH * k));
    const padH = Math.max(0, Math.floor((h - r.height) / 2)), padW = Math.max(0, Math.floor((w - r.width) / 2));
    blit(bg, r, 0, 0, padW, padH, Math.min(r.width, w - padW), Math.min(r.height, h - padH));
    return bg;
  }
  const k = Math.max(k0, k1);
  const r = highQualityResize(map, npRound(oldW * k), npRound(oldH * k));
  const padH = Math.max(0, Math.floor((r.height - h) / 2)), padW = Math.max(0, Math.floor((r.width - w) / 2));
  const cw = Math.min(w, r.width - padW), ch = Math.min(h, r.height - padH);
  const out = blank(r, cw, ch);
  blit(out, r, padW, padH, 0, 0, cw, ch);
  return out;
}

// The extension's path from a unit's image to its control hint (scripts/controlnet.py get_control
// and detectmap_proc), README steps 3–7 of ../shared/fixtures/sd1-controlnet:
//   3. the image as RGB 8-bit (HWC3: RGBA composited on white); inpaint modules get RGBA with the
//      mask (channel 0 of the HWC3'd mask, zeros without one) as alpha; other modules with a mask
//      that is neither all ≤ 5 nor all ≥ 250 use the mask itself as the image ("canvas scribble").
//   4. pixel perfect: processor res = round(max (min for Resize and Fill) of h/H, w/W × min(H, W)).
//   5. the preprocessor (preprocessors.ts).
//   6. the resize mode to the target size (detectmap.ts), target = width/height floored to ×8.
//   7. hint = map / 255 as float32 [C, h, w]; for inpaint maps the masked pixels (mask > 0.5)
//      are −1 in all three channels (hook.py's "ControlNet inpaint protocol").
// For hires fix the extension preprocesses once (pixel perfect from the first-pass size) and runs
// only step 6–7 again at the hires size: use `controlHintFromDetected` with the same detectedRaw.

import { makeRaster, type Raster } from '../../pipelines/image-ops.js';
import { requireAvailableModule, type ControlNetModule } from '../modules.js';
import { applyResizeMode, type DetectedMap, type ResizeModeName } from './detectmap.js';
import { ControlNetPreprocessError } from './preprocess-error.js';
import {
  hwc3,
  npRound,
  preprocessCanny,
  preprocessInvert,
  preprocessLineartStandard,
  preprocessScribbleXdog,
  preprocessThreshold,
  preprocessTileResample,
} from './preprocessors.js';

export type { ResizeModeName } from './detectmap.js';

export interface PreprocessOptions {
  /** Module name or label (see modules.ts); must be available. */
  module: string;
  /** The unit's stored processor_res (normalizeUnitSliders); replaced when pixelPerfect. */
  processorRes: number;
  thresholdA: number;
  thresholdB: number;
  pixelPerfect: boolean;
  resizeMode: ResizeModeName;
  /** Generation size; floored to a multiple of 8 as the extension does (align_dim_latent). */
  width: number;
  height: number;
  /** The unit's mask (inpaint modules: white = regenerate). Same size as the image. */
  mask?: Raster;
}

/** The control hint as the ControlNet consumes it: float32 [C, h, w], batch 1. */
export interface ControlHint {
  width: number;
  height: number;
  channels: 3;
  data: Float32Array;
}

export interface PreprocessResult {
  /** The preprocessor's output before the resize mode (RGB; inpaint: RGBA with the mask as alpha). */
  detectedRaw: Raster;
  hint: ControlHint;
  /** The map after the resize mode, as the extension shows it (inpaint: alpha = 255 − mask/2). */
  preview: Raster;
  /** The resolution the preprocessor ran with (pixel perfect applied). */
  processorResUsed: number;
}

const RESIZE_MODES: readonly ResizeModeName[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];

function isInpaint(moduleId: string): boolean {
  return moduleId.includes('inpaint');
}

/** The extension's pixel_perfect_resolution. */
export function pixelPerfectResolution(rawW: number, rawH: number, targetW: number, targetH: number, mode: ResizeModeName): number {
  const k0 = targetH / rawH, k1 = targetW / rawW;
  const est = (mode === 'Resize and Fill' ? Math.min(k0, k1) : Math.max(k0, k1)) * Math.min(rawH, rawW);
  return npRound(est);
}

function maskChannel(mask: Raster): Uint8Array {
  const m = hwc3(mask);
  const n = m.width * m.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = m.data[i * 3]!;
  return out;
}

function validate(image: Raster, opts: PreprocessOptions): void {
  const bad = (msg: string): never => {
    throw new ControlNetPreprocessError('bad_input', msg, opts.module);
  };
  if (!(image.width > 0 && image.height > 0) || image.data.length !== image.width * image.height * image.channels) {
    bad(`control image: ${image.width}x${image.height}x${image.channels} does not match ${image.data.length} bytes`);
  }
  if (!RESIZE_MODES.includes(opts.resizeMode)) bad(`resize_mode must be one of ${RESIZE_MODES.join(', ')}, got "${opts.resizeMode}"`);
  if (!(Math.floor(opts.width / 8) >= 1 && Math.floor(opts.height / 8) >= 1)) bad(`width/height must be at least 8, got ${opts.width}x${opts.height}`);
  if (opts.mask && opts.mask.data.length !== opts.mask.width * opts.mask.height * opts.mask.channels) {
    bad(`mask: ${opts.mask.width}x${opts.mask.height}x${opts.mask.channels} does not match ${opts.mask.data.length} bytes`);
  }
  if (opts.mask && (opts.mask.width !== image.width || opts.mask.height !== image.height)) {
    bad(`mask is ${opts.mask.width}x${opts.mask.height}, image is ${image.width}x${image.height}`);
  }
  for (const [k, v] of [['processor_res', opts.processorRes], ['threshold_a', opts.thresholdA], ['threshold_b', opts.thresholdB]] as const) {
    if (!Number.isFinite(v)) bad(`${k} must be a finite number, got ${v}`);
  }
}

/** Step 3: the preprocessor's input (RGB, or RGBA for inpaint modules). */
function inputImage(image: Raster, moduleId: string, mask: Raster | undefined): Raster {
  const rgb = hwc3(image);
  const n = rgb.width * rgb.height;
  const alpha = mask ? maskChannel(mask) : new Uint8Array(n);
  if (isInpaint(moduleId)) {
    const out = makeRaster(rgb.width, rgb.height, 4);
    for (let i = 0; i < n; i++) {
      out.data[i * 4] = rgb.data[i * 3]!;
      out.data[i * 4 + 1] = rgb.data[i * 3 + 1]!;
      out.data[i * 4 + 2] = rgb.data[i * 3 + 2]!;
      out.data[i * 4 + 3] = alpha[i]!;
    }
    return out;
  }
  let allLow = true, allHigh = true;
  for (let i = 0; i < n; i++) {
    if (alpha[i]! > 5) allLow = false;
    if (alpha[i]! < 250) allHigh = false;
  }
  if (allLow || allHigh) return rgb;
  const scribble = makeRaster(rgb.width, rgb.height, 3);
  for (let i = 0; i < n; i++) scribble.data.fill(alpha[i]!, i * 3, i * 3 + 3);
  return scribble;
}

/** Step 5: run the module's preprocessor. */
function runPreprocessor(m: ControlNetModule, img: Raster, res: number, a: number, b: number): Raster {
  switch (m.name) {
    case 'none':
    case 'inpaint':
    case 'inpaint_only':
      return img;
    case 'canny':
      return preprocessCanny(img, res, a, b);
    case 'invert':
      return preprocessInvert(img);
    case 'scribble_xdog':
      return preprocessScribbleXdog(img, res, a);
    case 'threshold':
      return preprocessThreshold(img, res, a);
    case 'lineart_standard':
      return preprocessLineartStandard(img, res);
    case 'tile_resample':
      return preprocessTileResample(img, a);
    default:
      throw new ControlNetPreprocessError('controlnet_module_unavailable', `ControlNet module "${m.name}" is not available: ${m.unavailableReason ?? 'not supported yet'}`, m.name);
  }
}

/**
 * The preprocessor alone, as the extension's POST /controlnet/detect runs it: no pixel perfect,
 * no resize mode. Returns the detected map; for inpaint modules the image the extension shows
 * instead (visualize_inpaint_mask: RGBA with alpha = 255 − mask // 2).
 *
 * @example detectControlMap(rgb, { module: 'canny', processorRes: 512, thresholdA: 100, thresholdB: 200 }).width
 */
export function detectControlMap(
  image: Raster,
  opts: { module: string; processorRes: number; thresholdA: number; thresholdB: number; mask?: Raster },
): Raster {
  const m = requireAvailableModule(opts.module);
  validate(image, { ...opts, pixelPerfect: false, resizeMode: 'Just Resize', width: 8, height: 8 });
  const input = inputImage(image, opts.module, opts.mask);
  const out = runPreprocessor(m, input, opts.processorRes, opts.thresholdA, opts.thresholdB);
  if (out.channels !== 4) return out;
  const vis = { ...out, data: out.data.slice() };
  for (let i = 3; i < vis.data.length; i += 4) vis.data[i] = 255 - (vis.data[i]! >> 1);
  return vis;
}

/**
 * Steps 6–7 from a detected map: the resize mode to width×height (floored to ×8), the hint and the
 * preview. The engine calls this again with the hires size for the second pass.
 */
export function controlHintFromDetected(
  detectedRaw: Raster,
  opts: { module: string; resizeMode: ResizeModeName; width: number; height: number },
): { hint: ControlHint; preview: Raster } {
  const w = Math.floor(opts.width / 8) * 8, h = Math.floor(opts.height / 8) * 8;
  const inpaint = isInpaint(opts.module);
  const map: DetectedMap = inpaint
    ? { width: detectedRaw.width, height: detectedRaw.height, channels: detectedRaw.channels, data: Float32Array.from(detectedRaw.data) }
    : hwc3(detectedRaw);
  const out = applyResizeMode(map, opts.resizeMode, w, h);
  const n = out.width * out.height, cn = out.channels;
  const hint = new Float32Array(3 * n);
  const preview = makeRaster(out.width, out.height, inpaint ? 4 : 3);
  for (let i = 0; i < n; i++) {
    const masked = inpaint && cn === 4 && Math.fround(out.data[i * 4 + 3]! / 255) > 0.5;
    for (let c = 0; c < 3; c++) {
      const v = out.data[i * cn + c]!;
      hint[c * n + i] = masked ? -1 : Math.fround(v / 255);
      preview.data[i * preview.channels + c] = Math.min(255, Math.max(0, Math.trunc(v)));
    }
    if (inpaint) preview.data[i * 4 + 3] = cn === 4 ? 255 - (Math.trunc(out.data[i * 4 + 3]!) >> 1) : 255;
  }
  return { hint: { width: out.width, height: out.height, channels: 3, data: hint }, preview };
}

/**
 * The whole preprocessing of one unit: README steps 3–7.
 *
 * @example
 * const r = preprocessControlImage(rgb64, { module: 'canny', processorRes: 512, thresholdA: 100, thresholdB: 200,
 *   pixelPerfect: true, resizeMode: 'Crop and Resize', width: 64, height: 64 });
 * r.processorResUsed // 64; r.hint.data.length === 3 * 64 * 64
 */
export function preprocessControlImage(image: Raster, opts: PreprocessOptions): PreprocessResult {
  const m = requireAvailableModule(opts.module);
  validate(image, opts);
  const input = inputImage(image, opts.module, opts.mask);
  const w = Math.floor(opts.width / 8) * 8, h = Math.floor(opts.height / 8) * 8;
  const res = opts.pixelPerfect ? pixelPerfectResolution(input.width, input.height, w, h, opts.resizeMode) : opts.processorRes;
  const detectedRaw = runPreprocessor(m, input, res, opts.thresholdA, opts.thresholdB);
  const { hint, preview } = controlHintFromDetected(detectedRaw, { module: opts.module, resizeMode: opts.resizeMode, width: w, height: h });
  return { detectedRaw, hint, preview, processorResUsed: res };
}


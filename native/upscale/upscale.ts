// A1111's Upscaler.upscale (modules/upscaler.py) and the resize of images.resize_image that hires
// fix and img2img use: model passes until the destination size is reached (at most three), then
// Pillow LANCZOS to the exact size. The model-free upscalers are A1111's UpscalerLanczos,
// UpscalerNearest and UpscalerNone.
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import { pillowResize } from '../image/pillow-resample.js';
import type { UpscalerModel } from './model.js';
import { tileCount, upscaleWithModel } from './tiling.js';
import { UpscaleError } from './upscale-error.js';

export type BuiltinUpscaler = 'Lanczos' | 'Nearest' | 'None';
export const BUILTIN_UPSCALERS: readonly BuiltinUpscaler[] = ['Lanczos', 'Nearest', 'None'];

export type UpscaleTarget = { scale: number } | { width: number; height: number };

export interface UpscaleOptions {
  /** Tile size in input pixels; ≤ 0 runs the whole image at once. Default 192 (A1111's ESRGAN_tile). */
  tile?: number;
  /** Tile overlap in input pixels. Default 8 (A1111's ESRGAN_tile_overlap). */
  overlap?: number;
  signal?: AbortSignal;
  /** Called after each model tile (or model-free pass) with the count done and the total. */
  onProgress?(done: number, total: number): void;
}

export const DEFAULT_TILE = 192;
export const DEFAULT_OVERLAP = 8;
/** A1111 runs at most this many model passes before the final resize. */
const MAX_PASSES = 3;
/** Largest side the upscaler writes (an 8-bit 16384² RGB image is 768 MiB). */
export const MAX_OUTPUT_SIDE = 16384;

function toRgb(img: Raster): Raster {
  if (img.channels === 3) return img;
  const out = makeRaster(img.width, img.height, 3);
  const n = img.width * img.height;
  // Pillow's convert("RGB"): alpha is dropped, grey is repeated.
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out.data[i * 3 + k] = img.data[i * img.channels + (img.channels === 1 ? 0 : k)]!;
  }
  return out;
}

function passSize(upscaler: UpscalerModel | BuiltinUpscaler, w: number, h: number, scale: number): [number, number] {
  if (upscaler === 'None') return [w, h];
  if (upscaler === 'Lanczos' || upscaler === 'Nearest') return [Math.trunc(w * scale), Math.trunc(h * scale)];
  return [w * upscaler.scale, h * upscaler.scale];
}

/** The sizes of the passes Upscaler.upscale makes (input size of each pass). */
function plannedPasses(upscaler: UpscalerModel | BuiltinUpscaler, w: number, h: number, scale: number, destW: number, destH: number): Array<[number, number]> {
  const passes: Array<[number, number]> = [];
  for (let i = 0; i < MAX_PASSES; i++) {
    if (w >= destW && h >= destH && (i > 0 || scale !== 1)) break;
    passes.push([w, h]);
    const [nw, nh] = passSize(upscaler, w, h, scale);
    if (nw === w && nh === h) break;
    w = nw;
    h = nh;
  }
  return passes;
}

function checkSize(w: number, h: number, what: string): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new UpscaleError('invalid_params', `${what} ${w}×${h} is empty`);
  if (w > MAX_OUTPUT_SIDE || h > MAX_OUTPUT_SIDE) throw new UpscaleError('invalid_params', `${what} ${w}×${h} exceeds ${MAX_OUTPUT_SIDE} px per side`);
}

/**
 * Upscaler.upscale(img, scale): dest = floor(W·scale / 8)·8 × floor(H·scale / 8)·8; up to three
 * passes while the image is smaller than dest (scale 1 still makes one); LANCZOS to dest.
 */
async function upscaleByScale(img: Raster, upscaler: UpscalerModel | BuiltinUpscaler, scale: number, opts: UpscaleOptions): Promise<Raster> {
  const destW = Math.floor((img.width * scale) / 8) * 8;
  const destH = Math.floor((img.height * scale) / 8) * 8;
  checkSize(destW, destH, `upscaled size (${img.width}×${img.height} × ${scale}, floored to multiples of 8)`);
  const tile = opts.tile ?? DEFAULT_TILE;
  const overlap = opts.overlap ?? DEFAULT_OVERLAP;
  const passes = plannedPasses(upscaler, img.width, img.height, scale, destW, destH);
  for (const [w, h] of passes) {
    const [nw, nh] = passSize(upscaler, w, h, scale);
    checkSize(nw, nh, 'intermediate size');
  }
  const isModel = typeof upscaler !== 'string';
  const total = isModel ? passes.reduce((n, [w, h]) => n + tileCount(w, h, tile, overlap), 0) : Math.max(1, passes.length);
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);
  let cur = img;
  for (let i = 0; i < passes.length; i++) {
    if (opts.signal?.aborted) throw new UpscaleError('cancelled', 'upscale cancelled');
    if (isModel) cur = await upscaleWithModel(upscaler, cur, tile, overlap, { signal: opts.signal, onTile: tick });
    else {
      const [nw, nh] = passSize(upscaler, cur.width, cur.height, scale);
      if (upscaler !== 'None') cur = pillowResize(cur, nw, nh, upscaler === 'Nearest' ? 'nearest' : 'lanczos');
      tick();
    }
  }
  if (!isModel && passes.length === 0) tick();
  if (cur.width !== destW || cur.height !== destH) cur = pillowResize(cur, destW, destH, 'lanczos');
  return cur;
}

/**
 * Upscales an 8-bit image as AUTOMATIC1111 does.
 * - `{ scale }`: Upscaler.upscale — the Extras tab's "Scale by" and the API (size floored to a multiple of 8).
 * - `{ width, height }`: images.resize_image(0, …) with an upscaler — hires fix and img2img: scale =
 *   max(width/W, height/H), the passes above only when scale > 1, then LANCZOS to exactly width×height.
 *
 * @example const big = await upscaleRaster(img, await loadUpscaler(file), { scale: 2 }, { onProgress: (d, t) => ... });
 */
export async function upscaleRaster(image: Raster, upscaler: UpscalerModel | BuiltinUpscaler, target: UpscaleTarget, opts: UpscaleOptions = {}): Promise<Raster> {
  if (typeof upscaler === 'string' && !BUILTIN_UPSCALERS.includes(upscaler)) {
    throw new UpscaleError('invalid_params', `unknown upscaler "${String(upscaler)}" (built in: ${BUILTIN_UPSCALERS.join(', ')})`);
  }
  const img = toRgb(image);
  if ('scale' in target) {
    if (!Number.isFinite(target.scale) || target.scale <= 0) throw new UpscaleError('invalid_params', `scale must be a positive number, got ${target.scale}`);
    return upscaleByScale(img, upscaler, target.scale, opts);
  }
  const { width, height } = target;
  checkSize(width, height, 'target size');
  if (upscaler === 'None') {
    const out = pillowResize(img, width, height, 'lanczos');
    opts.onProgress?.(1, 1);
    return out;
  }
  const scale = Math.max(width / img.width, height / img.height);
  let cur = img;
  if (scale > 1) cur = await upscaleByScale(img, upscaler, scale, opts);
  else opts.onProgress?.(1, 1);
  if (cur.width !== width || cur.height !== height) cur = pillowResize(cur, width, height, 'lanczos');
  return cur;
}

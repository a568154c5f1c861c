// A1111's tiled model upscale (modules/upscaler_utils.upscale_with_model with images.split_grid and
// images.combine_grid), pixel for pixel: T×T tiles cropped with black outside the image, each tile
// run through the model and rounded to 8-bit on its own, then the tiles blended back with Pillow's
// integer mask paste. Rows are combined as soon as they are done, so memory holds one row of tiles
// and the 8-bit output — never the output as float32.
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import type { UpscalerModel } from './model.js';
import { UpscaleError } from './upscale-error.js';

export interface GridLayout {
  /** Tile positions in input pixels (x of each column, y of each row); may be negative. */
  xs: number[];
  ys: number[];
  tile: number;
  overlap: number;
}

/** split_grid's positions for a W×H image (Python's int() truncates, ceil is on float division). */
export function splitGrid(width: number, height: number, tile: number, overlap: number): GridLayout {
  const cols = Math.ceil((width - overlap) / (tile - overlap));
  const rows = Math.ceil((height - overlap) / (tile - overlap));
  const dx = cols > 1 ? (width - tile) / (cols - 1) : 0;
  const dy = rows > 1 ? (height - tile) / (rows - 1) : 0;
  const ys: number[] = [];
  for (let r = 0; r < rows; r++) {
    let y = Math.trunc(r * dy);
    if (y + tile >= height) y = height - tile;
    ys.push(y);
  }
  const xs: number[] = [];
  for (let c = 0; c < cols; c++) {
    let x = Math.trunc(c * dx);
    if (x + tile >= width) x = width - tile;
    xs.push(x);
  }
  return { xs, ys, tile, overlap };
}

/** PIL crop: T×T at (x, y), black where it leaves the image. */
function cropTile(src: Raster, x: number, y: number, w: number, h: number): Raster {
  const out = makeRaster(w, h, 3);
  for (let ty = 0; ty < h; ty++) {
    const sy = y + ty;
    if (sy < 0 || sy >= src.height) continue;
    const x0 = Math.max(0, -x), x1 = Math.min(w, src.width - x);
    if (x1 <= x0) continue;
    out.data.set(src.data.subarray((sy * src.width + x + x0) * 3, (sy * src.width + x + x1) * 3), (ty * w + x0) * 3);
  }
  return out;
}

/** pil_image_to_torch_bgr: [3, H, W] float32, channel 0 = blue, u / 255. */
export function rasterToBgr(img: Raster): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const c = img.channels;
  for (let i = 0; i < n; i++) {
    out[i] = img.data[i * c + 2]! / 255;
    out[n + i] = img.data[i * c + 1]! / 255;
    out[2 * n + i] = img.data[i * c]! / 255;
  }
  return out;
}

/** np.round (half to even) of a non-negative value. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torch_bgr_to_pil_image: clamp to [0, 1], float32(255·v) rounded half to even, BGR → RGB. */
export function bgrToRaster(bgr: Float32Array, width: number, height: number): Raster {
  const n = width * height;
  const out = makeRaster(width, height, 3);
  for (let c = 0; c < 3; c++) {
    const plane = (2 - c) * n;
    for (let i = 0; i < n; i++) {
      const raw = bgr[plane + i]!;
      const v = raw > 0 ? (raw < 1 ? raw : 1) : 0; // NaN → 0, as clamp then uint8 would not be defined anyway
      out.data[i * 3 + c] = roundHalfEven(Math.fround(255 * v));
    }
  }
  return out;
}

/** One model call on an 8-bit image (upscale_pil_patch). */
export async function upscalePatch(model: UpscalerModel, img: Raster): Promise<Raster> {
  if (model.inChannels !== 3 || model.outChannels !== 3) {
    throw new UpscaleError('unsupported_upscaler', `${model.name}: ${model.inChannels}→${model.outChannels} channels; only RGB upscalers are supported`);
  }
  const raw = await model.forward(rasterToBgr(img), img.width, img.height);
  return bgrToRaster(raw, img.width * model.scale, img.height * model.scale);
}

// DIV255 of Pillow's Paste.c: exact rounding of a / 255 for 0 ≤ a ≤ 255·255.
function blend(old: number, value: number, m: number): number {
  const t = old * (255 - m) + value * m + 128;
  return ((t >> 8) + t) >> 8;
}

/** The mask of combine_grid: uint8(float32(i)·255 / ov), truncated. */
function overlapMask(ov: number): Uint8Array {
  const m = new Uint8Array(ov);
  for (let i = 0; i < ov; i++) m[i] = Math.trunc(Math.fround(Math.fround(i * 255) / ov));
  return m;
}

/**
 * Copies rows [sy0, sy1) × columns [sx0, sx1) of `src` to `dst` at (dx, dy) (clipped), blending the
 * first `maskLen` columns (or rows, with `maskRows`) with `mask`.
 */
function pasteRegion(
  dst: Raster,
  src: Raster,
  sx0: number,
  sy0: number,
  sx1: number,
  sy1: number,
  dx: number,
  dy: number,
  mask?: { values: Uint8Array; rows: boolean },
): void {
  // Clip the source columns to what lands inside dst, as Pillow's paste does.
  const cx0 = Math.max(sx0, sx0 - dx), cx1 = Math.min(sx1, sx0 + dst.width - dx);
  if (cx1 <= cx0) return;
  for (let sy = sy0; sy < sy1; sy++) {
    const ty = dy + (sy - sy0);
    if (ty < 0 || ty >= dst.height) continue;
    const tx0 = dx + (cx0 - sx0);
    const si0 = (sy * src.width + cx0) * 3, di0 = (ty * dst.width + tx0) * 3;
    if (!mask) {
      dst.data.set(src.data.subarray(si0, si0 + (cx1 - cx0) * 3), di0);
      continue;
    }
    for (let sx = cx0; sx < cx1; sx++) {
      const si = si0 + (sx - cx0) * 3, di = di0 + (sx - cx0) * 3;
      const m = mask.values[mask.rows ? sy - sy0 : sx - sx0]!;
      for (let k = 0; k < 3; k++) dst.data[di + k] = blend(dst.data[di + k]!, src.data[si + k]!, m);
    }
  }
}

export interface TileProgress {
  signal?: AbortSignal;
  /** Called after each tile with the tiles done in this call. */
  onTile?(): void;
}

export function tileCount(width: number, height: number, tile: number, overlap: number): number {
  if (tile <= 0) return 1;
  const g = splitGrid(width, height, tile, overlap);
  return g.xs.length * g.ys.length;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new UpscaleError('cancelled', 'upscale cancelled');
}

/**
 * upscale_with_model(model, img, tile_size, tile_overlap): untiled when tile ≤ 0, otherwise
 * split_grid → per-tile model call → combine_grid.
 */
export async function upscaleWithModel(model: UpscalerModel, img: Raster, tile: number, overlap: number, progress: TileProgress = {}): Promise<Raster> {
  checkAbort(progress.signal);
  if (tile <= 0) {
    const out = await upscalePatch(model, img);
    progress.onTile?.();
    return out;
  }
  if (overlap < 0 || overlap >= tile) throw new UpscaleError('invalid_params', `tile overlap ${overlap} must be ≥ 0 and smaller than the tile (${tile})`);
  const grid = splitGrid(img.width, img.height, tile, overlap);
  const s = model.scale;
  const W = img.width * s, H = img.height * s, T = tile * s, ov = overlap * s;
  const mask = overlapMask(ov);
  const out = makeRaster(W, H, 3);
  for (const y0 of grid.ys) {
    const row = makeRaster(W, T, 3);
    for (const x0 of grid.xs) {
      checkAbort(progress.signal);
      const t = await upscalePatch(model, cropTile(img, x0, y0, tile, tile));
      progress.onTile?.();
      const x = x0 * s;
      if (x === 0) {
        pasteRegion(row, t, 0, 0, T, T, 0, 0);
        continue;
      }
      pasteRegion(row, t, 0, 0, ov, T, x, 0, { values: mask, rows: false });
      pasteRegion(row, t, ov, 0, T, T, x + ov, 0);
    }
    const y = y0 * s;
    if (y === 0) {
      pasteRegion(out, row, 0, 0, W, T, 0, 0);
      continue;
    }
    pasteRegion(out, row, 0, 0, W, ov, 0, y, { values: mask, rows: true });
    pasteRegion(out, row, 0, ov, W, T, 0, y + ov);
  }
  return out;
}

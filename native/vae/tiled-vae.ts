// Tiled VAE decode and encode for large images (what hires fix and upscale feed the VAE): the
// latent is cut into equal square tiles that overlap, each tile runs through the ordinary graph
// (one session, since every tile has the same shape), and the outputs are blended with linear
// ramps across the overlaps (diffusers' `enable_vae_tiling` scheme). Memory is bounded by one
// tile's activations instead of growing with the image (a 2048² decode untiled holds several 2 GiB
// activations and a 16 GiB attention over 65 536 positions).
//
// Effect on pixels: GroupNorm statistics and the mid-block attention see one tile instead of the
// whole image, so a tiled result is not the untiled one; the ramps hide seams. Below the size
// threshold nothing is tiled and results are bit-identical to the plain graph.
import { EngineError } from '../runtime/engine-error.js';

export interface VaeTiling {
  /** Tile only when the latent has more than this many positions (h·w); default 128² (1024² images). */
  maxUntiledLatentArea: number;
  /** Tile side in latent pixels (image pixels / 8). */
  tile: number;
  /** Overlap between neighbouring tiles in latent pixels. */
  overlap: number;
}

/**
 * 64-latent (512 px) tiles overlapping by 16 (128 px): 25 tiles for a 2048² image. One 768² tile
 * decode measured 6.1 GiB process peak (ORT's arena), over the 6 GiB budget; 512² tiles are ~4/9 of
 * the activations.
 */
export const DEFAULT_VAE_TILING: VaeTiling = { maxUntiledLatentArea: 128 * 128, tile: 64, overlap: 16 };

/** Throws a coded error for a tiling that cannot work (tile ≤ overlap, non-integers). */
export function checkTiling(t: VaeTiling): void {
  const ints = [t.maxUntiledLatentArea, t.tile, t.overlap].every((v) => Number.isInteger(v) && v >= 0);
  if (!ints || t.tile < 1 || t.overlap >= t.tile) {
    throw new EngineError('bad_input', `VAE tiling needs integers with tile > overlap ≥ 0, got tile ${t.tile}, overlap ${t.overlap}, area ${t.maxUntiledLatentArea}`);
  }
}

/** Whether a latent of h×w is tiled under `t`. */
export function usesTiles(t: VaeTiling, h: number, w: number): boolean {
  return h * w > t.maxUntiledLatentArea && (h > t.tile || w > t.tile);
}

/**
 * Start offsets of tiles of `tile` along an axis of `size`, stepping by tile - overlap; the last
 * tile is aligned to the end so that every tile has the same size (one session shape).
 */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += step) starts.push(s);
  starts.push(size - tile);
  return starts;
}

/**
 * Blend weight of position p (0 ≤ p < len) of a tile along one axis: a ramp rising over `ramp`
 * positions on each side that has a neighbour, 1 elsewhere. Never 0, so every output position
 * has a positive total weight.
 */
function ramp1d(len: number, ramp: number, left: boolean, right: boolean): Float32Array {
  const w = new Float32Array(len).fill(1);
  if (ramp <= 0) return w;
  for (let p = 0; p < len; p++) {
    const l = left ? Math.min(1, (p + 0.5) / ramp) : 1;
    const r = right ? Math.min(1, (len - p - 0.5) / ramp) : 1;
    w[p] = Math.min(l, r);
  }
  return w;
}

export interface TiledRun {
  /** Input [B, cin, h·fin, w·fin]; output [B, cout, h·fout, w·fout]; h, w in latent pixels. */
  input: Float32Array;
  batch: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  /** Input and output pixels per latent pixel (decode: 1 and 8; encode: 8 and 1). */
  fin: number;
  fout: number;
  tiling: VaeTiling;
  /** Runs the graph on one tile: [B, cin, t·fin, t·fin] -> [B, cout, t·fout, t·fout]. */
  run: (tile: Float32Array, th: number, tw: number) => Promise<Float32Array>;
}

/** Runs `r.run` over overlapping tiles and blends the results into one output. */
export async function runTiled(r: TiledRun): Promise<Float32Array> {
  const { batch, cin, cout, h, w, fin, fout, tiling } = r;
  checkTiling(tiling);
  const th = Math.min(tiling.tile, h);
  const tw = Math.min(tiling.tile, w);
  const ys = tileStarts(h, th, tiling.overlap);
  const xs = tileStarts(w, tw, tiling.overlap);
  const [IH, IW, OH, OW] = [h * fin, w * fin, h * fout, w * fout];
  const [tih, tiw, toh, tow] = [th * fin, tw * fin, th * fout, tw * fout];
  const acc = new Float32Array(batch * cout * OH * OW);
  const wsum = new Float32Array(OH * OW);
  const crop = new Float32Array(batch * cin * tih * tiw);
  for (const y0 of ys) {
    for (const x0 of xs) {
      for (let bc = 0; bc < batch * cin; bc++) {
        for (let y = 0; y < tih; y++) {
          const src = (bc * IH + y0 * fin + y) * IW + x0 * fin;
          crop.set(r.input.subarray(src, src + tiw), (bc * tih + y) * tiw);
        }
      }
      const out = await r.run(crop, th, tw);
      if (out.length !== batch * cout * toh * tow) {
        throw new EngineError('run_failed', `VAE tile gave ${out.length} values, expected ${batch * cout * toh * tow}`);
      }
      const ramp = tiling.overlap * fout;
      const wy = ramp1d(toh, ramp, y0 > 0, y0 + th < h);
      const wx = ramp1d(tow, ramp, x0 > 0, x0 + tw < w);
      for (let y = 0; y < toh; y++) {
        const row = (y0 * fout + y) * OW + x0 * fout;
        for (let x = 0; x < tow; x++) wsum[row + x] += wy[y] * wx[x];
      }
      for (let bc = 0; bc < batch * cout; bc++) {
        for (let y = 0; y < toh; y++) {
          const dst = (bc * OH + y0 * fout + y) * OW + x0 * fout;
          const src = (bc * toh + y) * tow;
          const k = wy[y];
          for (let x = 0; x < tow; x++) acc[dst + x] += out[src + x] * k * wx[x];
        }
      }
    }
  }
  const plane = OH * OW;
  for (let bc = 0; bc < batch * cout; bc++) {
    for (let i = 0; i < plane; i++) acc[bc * plane + i] /= wsum[i];
  }
  return acc;
}

// The extension's edge clean-up for binary control maps (scripts/lvminthin.py, Lvmin Zhang 2023):
// `nakeNms` keeps a pixel where it is a maximum along one of four 3-pixel lines, `lvminThin`
// repeatedly removes the hit-or-miss patterns of 8 thinning kernels (up to 32 passes) and
// optionally prunes spurs once. Applied by high_quality_resize to one-pixel-edge maps.

import type { Raster } from '../../pipelines/image-ops.js';
import { cv2Dilate, cv2HitMiss, type Kernel } from '../../image/cv2-morph.js';

type Grid = number[][];

function rot90(m: Grid, k: number): Grid {
  let r = m;
  for (let t = 0; t < k; t++) {
    // np.rot90 (counter-clockwise): out[i][j] = in[j][n − 1 − i]
    const n = r.length;
    r = r.map((_, i) => r.map((__, j) => r[j]![n - 1 - i]!));
  }
  return r;
}

function kernels(raw: Grid[]): Kernel[] {
  const out: Kernel[] = [];
  for (let k = 0; k < 4; k++) for (const m of raw) out.push({ rows: 3, cols: 3, data: rot90(m, k).flat() });
  return out;
}

const THIN_KERNELS = kernels([
  [
    [-1, -1, -1],
    [0, 1, 0],
    [1, 1, 1],
  ],
  [
    [0, -1, -1],
    [1, 1, -1],
    [0, 1, 0],
  ],
]);

const PRUNE_KERNELS = kernels([
  [
    [-1, -1, -1],
    [-1, 1, -1],
    [0, 0, -1],
  ],
  [
    [-1, -1, -1],
    [-1, 1, -1],
    [-1, 0, 0],
  ],
]);

/** One pass over `ks`: each kernel's hits (> 127) are cleared before the next kernel runs. */
function thinOnce(x: Raster, ks: Kernel[]): boolean {
  let done = true;
  for (const k of ks) {
    const hits = cv2HitMiss(x, k).data;
    for (let i = 0; i < hits.length; i++) {
      if (hits[i]! > 127) {
        x.data[i] = 0;
        done = false;
      }
    }
  }
  return done;
}

/** lvmin_thin(x, prunings) on a one-channel binary map (returns a new raster). */
export function lvminThin(src: Raster, prunings = true): Raster {
  const y: Raster = { ...src, data: src.data.slice() };
  for (let i = 0; i < 32; i++) if (thinOnce(y, THIN_KERNELS)) break;
  if (prunings) thinOnce(y, PRUNE_KERNELS);
  return y;
}

const NMS_LINES: Kernel[] = [
  [0, 0, 0, 1, 1, 1, 0, 0, 0],
  [0, 1, 0, 0, 1, 0, 0, 1, 0],
  [1, 0, 0, 0, 1, 0, 0, 0, 1],
  [0, 0, 1, 0, 1, 0, 1, 0, 0],
].map((data) => ({ rows: 3, cols: 3, data }));

/** nake_nms(x): x where x equals its dilation along any of the four lines, else 0. */
export function nakeNms(src: Raster): Raster {
  const y = new Uint8Array(src.data.length);
  for (const f of NMS_LINES) {
    const d = cv2Dilate(src, f).data;
    for (let i = 0; i < y.length; i++) if (d[i] === src.data[i]) y[i] = src.data[i]!;
  }
  return { ...src, data: y };
}

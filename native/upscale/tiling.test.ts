// A1111's tiling on its own, with a stand-in model (nearest ×4 in plain JS, so the expected image
// is known exactly): split_grid positions including the image-smaller-than-tile case, exact
// recombination (blending equal values gives the value back), the pass plan of Upscaler.upscale,
// and memory: every model call sees one tile, and the process never holds the output as float32.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import type { UpscalerModel } from './model.js';
import { splitGrid, upscaleWithModel } from './tiling.js';
import { upscaleRaster } from './upscale.js';

/** A ×s "model" that repeats each pixel s×s (in the BGR planes it is given). */
function nearestModel(s: number, seen: Array<[number, number]> = [], onCall?: () => void): UpscalerModel {
  return {
    name: 'nearest',
    path: '',
    arch: 'Compact',
    scale: s,
    inChannels: 3,
    outChannels: 3,
    spec: undefined as never,
    async forward(x, w, h) {
      seen.push([w, h]);
      onCall?.();
      const out = new Float32Array(3 * w * h * s * s);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < h * s; y++) {
          for (let xx = 0; xx < w * s; xx++) out[(c * h * s + y) * w * s + xx] = x[(c * h + Math.floor(y / s)) * w + Math.floor(xx / s)]!;
        }
      }
      return out;
    },
    async dispose() {},
  };
}

function pattern(w: number, h: number): Raster {
  const r = makeRaster(w, h, 3);
  for (let i = 0; i < w * h * 3; i++) r.data[i] = (i * 7919) % 256;
  return r;
}

function nearestUp(src: Raster, s: number): Raster {
  const out = makeRaster(src.width * s, src.height * s, 3);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const si = (Math.floor(y / s) * src.width + Math.floor(x / s)) * 3;
      out.data.set(src.data.subarray(si, si + 3), (y * out.width + x) * 3);
    }
  }
  return out;
}

describe('split_grid', () => {
  it('matches A1111 for the fixture sizes and for images smaller than the tile', () => {
    expect(splitGrid(40, 32, 16, 4)).toMatchObject({ xs: [0, 12, 24], ys: [0, 8, 16] });
    expect(splitGrid(40, 32, 192, 8)).toMatchObject({ xs: [-152], ys: [-160] });
    // 512 with 192/8: ceil(504/184) = 3 columns, dx = 160.
    expect(splitGrid(512, 512, 192, 8)).toMatchObject({ xs: [0, 160, 320], ys: [0, 160, 320] });
    // int() truncates: dx = (1000 − 192) / 5 = 161.6 → 0, 161, 323, 484, 646, then 808.
    expect(splitGrid(1000, 300, 192, 8).xs).toEqual([0, 161, 323, 484, 646, 808]);
  });
});

describe('tiled upscale with a stand-in model', () => {
  it('recombines tiles exactly where the model is position-independent (grid of 3×3 and a padded tile)', async () => {
    const img = pattern(50, 37);
    for (const [tile, overlap] of [[16, 4], [24, 8], [192, 8], [0, 0]] as const) {
      const out = await upscaleWithModel(nearestModel(4), img, tile, overlap);
      expect(Buffer.from(out.data).equals(Buffer.from(nearestUp(img, 4).data)), `${tile}/${overlap}`).toBe(true);
    }
  });

  it('feeds the model one tile at a time and never holds the output as float32 (512² → 2048²)', async () => {
    const img = pattern(512, 512);
    const seen: Array<[number, number]> = [];
    // Live memory, not garbage: collect before each sample (V8's gc, exposed for this test only).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    let peak = 0;
    const before = process.memoryUsage().arrayBuffers;
    const model = nearestModel(4, seen, () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    });
    const ticks: number[] = [];
    const out = await upscaleRaster(img, model, { scale: 4 }, { onProgress: (d, t) => ticks.push(d * 100 + t) });
    expect([out.width, out.height]).toEqual([2048, 2048]);
    expect(seen).toEqual(new Array(9).fill([192, 192]));
    expect(ticks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => d * 100 + 9));
    // Live at a model call: the 8-bit output (12 MiB), one row of tiles (4.5 MiB), the last tile and
    // its float32 output (V8 frees external buffers lazily). The output as float32 would be 48 MiB on
    // its own, on top of the 8-bit one.
    expect(peak).toBeLessThan(40 * 1024 * 1024);
    expect(Buffer.from(out.data).equals(Buffer.from(nearestUp(img, 4).data))).toBe(true);
  });

  it('plans passes as Upscaler.upscale: floor to 8, up to three passes, none when already large enough', async () => {
    const img = pattern(40, 32);
    const seen: Array<[number, number]> = [];
    const x2 = nearestModel(2, seen);
    // 2.5 → dest 96×80: passes 40×32 → 80×64 → 160×128, then LANCZOS down.
    expect(await upscaleRaster(img, x2, { scale: 2.5 }, { tile: 0 })).toMatchObject({ width: 96, height: 80 });
    expect(seen).toEqual([[40, 32], [80, 64]]);
    seen.length = 0;
    // ×8 wanted, ×2 model: three passes reach 320×256 exactly.
    expect(await upscaleRaster(img, x2, { scale: 8 }, { tile: 0 })).toMatchObject({ width: 320, height: 256 });
    expect(seen).toHaveLength(3);
    seen.length = 0;
    // 1.1 → dest 40×32: no pass at all; 1.0: one pass, then down again.
    expect(await upscaleRaster(img, x2, { scale: 1.1 }, { tile: 0 })).toMatchObject({ width: 40, height: 32 });
    expect(seen).toHaveLength(0);
    await upscaleRaster(img, x2, { scale: 1 }, { tile: 0 });
    expect(seen).toHaveLength(1);
    // Fixed size (hires fix / img2img resize): exactly the size asked for.
    expect(await upscaleRaster(img, x2, { width: 100, height: 50 }, { tile: 0 })).toMatchObject({ width: 100, height: 50 });
    expect(await upscaleRaster(img, 'Lanczos', { width: 33, height: 21 })).toMatchObject({ width: 33, height: 21 });
    expect(await upscaleRaster(img, 'Nearest', { scale: 2 })).toMatchObject({ width: 80, height: 64 });
    expect(await upscaleRaster(img, 'None', { scale: 2 })).toMatchObject({ width: 80, height: 64 });
  });

  it('stops between tiles when aborted, with the cancelled code', async () => {
    const controller = new AbortController();
    let calls = 0;
    const model = nearestModel(4, [], () => {
      if (++calls === 2) controller.abort();
    });
    await expect(upscaleRaster(pattern(64, 64), model, { scale: 4 }, { tile: 16, overlap: 4, signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(calls).toBe(2);
    await expect(upscaleRaster(pattern(8, 8), 'Lanczos', { scale: 0 })).rejects.toMatchObject({ code: 'invalid_params' });
  });
});

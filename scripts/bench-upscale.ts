// Benchmark of a full-size upscaler: a RealESRGAN_x4plus-shaped RRDBNet (nf 64, nb 23, gc 32, ×4,
// Real-ESRGAN key layout, seeded random weights, ~67 MB) upscales a 512² image with A1111's tiling
// (192 / 8 by default: 9 tiles → 2048²). Prints load time, time to the first tile (includes session
// creation), total time and peak RSS. Asserts nothing.
//
// Usage: npm run bench:upscale -- [--size N] [--tile N] [--overlap N] [--device cpu|cuda] [--threads N]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type TensorData } from '../native/io/safetensors.js';
import { makeRaster } from '../native/pipelines/image-ops.js';
import { loadUpscaler, upscaleWithModel } from '../native/upscale/index.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `bench-upscale: time a full-size RRDBNet ×4 (RealESRGAN_x4plus shape, random weights)

  --size N         input side in pixels (default 512)
  --tile N         tile size, 0 = untiled (default 192)
  --overlap N      tile overlap (default 8)
  --device D       cpu or cuda (default cpu)
  --threads N      ONNX Runtime intra-op threads (default: ORT's choice)
  --help           show this text`;

const NF = 64, NB = 23, GC = 32;

/** Deterministic N(0, 1) from a 32-bit seed (Box–Muller over mulberry32). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function randomRrdb(): Record<string, TensorData> {
  const g = gaussian(1);
  const out: Record<string, TensorData> = {};
  const conv = (key: string, o: number, i: number, gain: number) => {
    const w = new Float32Array(o * i * 9);
    const std = gain / Math.sqrt(i * 9);
    for (let k = 0; k < w.length; k++) w[k] = g() * std;
    out[`${key}.weight`] = { dtype: 'F32', shape: [o, i, 3, 3], data: w };
    out[`${key}.bias`] = { dtype: 'F32', shape: [o], data: new Float32Array(o).map(() => 0.01 * g()) };
  };
  conv('conv_first', NF, 3, 1);
  for (let b = 0; b < NB; b++) {
    for (let r = 1; r <= 3; r++) for (let k = 1; k <= 5; k++) conv(`body.${b}.rdb${r}.conv${k}`, k === 5 ? NF : GC, NF + (k - 1) * GC, k === 5 ? 0.1 : 1.2);
  }
  conv('conv_body', NF, NF, 1);
  conv('conv_up1', NF, NF, 1.2);
  conv('conv_up2', NF, NF, 1.2);
  conv('conv_hr', NF, NF, 1.2);
  conv('conv_last', 3, NF, 0.5);
  return out;
}

function int(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<number> {
  const v = parseFlags(
    { size: { type: 'string' }, tile: { type: 'string' }, overlap: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' } },
    HELP,
  );
  if (!v) return 0;
  const size = int('size', v.size, 512);
  const tile = int('tile', v.tile, 192);
  const overlap = int('overlap', v.overlap, 8);
  const threads = int('threads', v.threads, 0);
  const device = v.device === 'cuda' ? 'cuda' : 'cpu';
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-upscale-'));
  try {
    const file = join(dir, 'RRDBNet_x4_random.safetensors');
    await writeSafetensors(file, randomRrdb());
    const img = makeRaster(size, size, 3);
    const g = gaussian(2);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) img.data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(128 + 60 * Math.sin((x + 2 * c) / 17) * Math.cos(y / 23) + 10 * g())));
      }
    }
    const t0 = performance.now();
    const model = await loadUpscaler(file, { device, ...(threads ? { intraOpThreads: threads } : {}) });
    const tLoad = performance.now();
    let tFirst = 0, tiles = 0;
    const out = await upscaleWithModel(model, img, tile, overlap, {
      onTile: () => {
        tiles++;
        if (tiles === 1) tFirst = performance.now();
        process.stderr.write(`\r  tile ${tiles}`);
      },
    });
    const tEnd = performance.now();
    process.stderr.write('\n');
    await model.dispose();
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    const rows: Array<[string, string]> = [
      ['model', `RRDBNet nf ${NF} nb ${NB} gc ${GC} ×4, random weights (${model.arch})`],
      ['input → output', `${size}² → ${out.width}×${out.height}`],
      ['tiles', `${tiles} (tile ${tile}, overlap ${overlap})`],
      ['device', `${device}, ${cpus().length} cores (load ${loadavg()[0]!.toFixed(1)})`],
      ['load (read + detect)', `${((tLoad - t0) / 1000).toFixed(2)} s`],
      ['first tile (incl. session)', `${((tFirst - tLoad) / 1000).toFixed(2)} s`],
      ['all tiles + combine', `${((tEnd - tLoad) / 1000).toFixed(2)} s`],
      ['per tile after the first', tiles > 1 ? `${((tEnd - tFirst) / 1000 / (tiles - 1)).toFixed(2)} s` : '-'],
      ['peak RSS', `${rssMiB.toFixed(0)} MiB`],
    ];
    console.log('| quantity | value |\n| --- | --- |');
    for (const [k, val] of rows) console.log(`| ${k} | ${val} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

runMain(main);

// `npm run bench:engine -- --compare-export DIR`: Easel's graphs against the graphs
// `torch.onnx.export` makes of the original ldm modules (../shared/tools/peer-export/), run by the
// same onnxruntime-node with the same session options, interleaved (A B A B ...) so both see the
// same machine load. DIR holds unet/unet.onnx, vae_decoder/vae_decoder.onnx and optionally
// vae_encoder/vae_encoder.onnx (input `image`, output `moments`); a missing file skips its rows.
// Prints measure | Easel | export | Easel/export (median of the alternated runs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineRuntime, EngineSession, FeedTensor } from '../native/runtime/ort-backend.js';
import type { DiffusionModel } from '../native/runtime/diffusion-model.js';

export interface CompareOptions {
  runtime: EngineRuntime;
  model: DiffusionModel;
  /** Text-encoder output for one prompt [77, context_dim], repeated over the batch. */
  cond: Float32Array;
  dir: string;
  /** UNet latent sizes (batch 2 = one CFG step); default 64, 32, 8 (512², 256², 64² images). */
  unetSizes: number[];
  vaeLatent: number;
  runs: number;
  /** Which parts to compare (default all). */
  parts?: { unet?: boolean; decode?: boolean; encode?: boolean };
  log: (line: string) => void;
}

export interface CompareRow {
  what: string;
  easel: number;
  exported: number;
}

export function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return out;
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** One warm-up each, then `runs` alternated timings of a (Easel) and b (export). */
async function alternate(runs: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push(await timed(a));
    tb.push(await timed(b));
  }
  return [median(ta), median(tb)];
}

const f32 = (data: Float32Array, dims: number[]): FeedTensor => ({ dtype: 'float32', data, dims });

export async function compareWithExport(o: CompareOptions): Promise<CompareRow[]> {
  const { model, runtime, dir } = o;
  const rows: CompareRow[] = [];
  const add = (what: string, [easel, exported]: [number, number]) => {
    rows.push({ what, easel, exported });
    o.log(`${what}: Easel ${(easel / 1000).toFixed(3)} s, export ${(exported / 1000).toFixed(3)} s, ratio ${(easel / exported).toFixed(3)}`);
  };
  const cfg = model.config;
  const session = async (rel: string): Promise<EngineSession | undefined> => {
    const path = join(dir, rel);
    if (!existsSync(path)) {
      o.log(`${path} not found: its rows are skipped`);
      return undefined;
    }
    return runtime.createSessionFromFile(`export:${rel}`, path);
  };

  const parts = { unet: true, decode: true, encode: true, ...o.parts };
  const unetExport = parts.unet ? await session('unet/unet.onnx') : undefined;
  if (unetExport) {
    try {
      const batch = 2;
      const context = new Float32Array(batch * o.cond.length);
      for (let b = 0; b < batch; b++) context.set(o.cond, b * o.cond.length);
      const tokens = o.cond.length / cfg.unet.context_dim;
      const ts = new Float32Array(batch).fill(500);
      for (const latent of o.unetSizes) {
        const dims = { batch, h: latent, w: latent, tokens };
        const x = randomValues(batch * cfg.unet.in_channels * latent * latent, 1);
        await model.unet.prepare(dims);
        const feeds = {
          x: f32(x, [batch, cfg.unet.in_channels, latent, latent]),
          timesteps: f32(ts, [batch]),
          context: f32(context, [batch, tokens, cfg.unet.context_dim]),
        };
        add(`UNet: per evaluation (batch ${batch}, ${latent}×${latent})`, await alternate(o.runs, () => model.unet.eps(x, ts, context, dims), () => unetExport.run(feeds)));
        await model.unet.release(); // one Easel UNet session at a time beside the exported one
      }
    } finally {
      await unetExport.dispose();
    }
  }

  const L = o.vaeLatent;
  const px = L * 8;
  const vd = { batch: 1, h: L, w: L };
  const z = randomValues(cfg.vae.embed_dim * L * L, 2);
  let image: Float32Array | undefined;
  const decExport = parts.decode ? await session('vae_decoder/vae_decoder.onnx') : undefined;
  if (decExport) {
    try {
      await model.vae.prepareDecoder(vd);
      add(
        `VAE decode ${px}×${px}`,
        await alternate(o.runs, async () => (image = await model.vae.decode(z, vd)), () => decExport.run({ z: f32(z, [1, cfg.vae.embed_dim, L, L]) })),
      );
    } finally {
      await decExport.dispose();
      await model.vae.release();
    }
  }
  const encExport = parts.encode ? await session('vae_encoder/vae_encoder.onnx') : undefined;
  if (encExport) {
    try {
      const img = image ? image.map((v) => Math.max(-1, Math.min(1, v))) : randomValues(3 * px * px, 3);
      await model.vae.prepareEncoder(vd);
      add(`VAE encode ${px}×${px}`, await alternate(o.runs, () => model.vae.encodeMoments(img, vd), () => encExport.run({ image: f32(img, [1, 3, px, px]) })));
    } finally {
      await encExport.dispose();
      await model.vae.release();
    }
  }
  return rows;
}

/** The ratios table (markdown). */
export function formatCompare(rows: readonly CompareRow[]): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const width = Math.max(7, ...rows.map((r) => r.what.length));
  return [
    `| ${'measure'.padEnd(width)} | Easel | export | Easel / export |`,
    `| ${'-'.repeat(width)} | ----- | ------ | -------------- |`,
    ...rows.map((r) => `| ${r.what.padEnd(width)} | ${s(r.easel)} | ${s(r.exported)} | ${(r.easel / r.exported).toFixed(2)} |`),
  ];
}

// Load rows of `npm run bench:engine`: checkpoint → ready UNet session with no load cache (every load
// before the cache), with an empty cache (first load: builds and stores the entry) and with the
// entry in place (a checkpoint loaded before), each in a fresh process so that nothing carries over
// but the disk, plus one UNet evaluation and each process's peak RSS. Set EASEL_BENCH_LOAD=0 to skip.
//
// Also runnable alone: npx tsx scripts/bench-engine-load.ts --model FILE [--latent 64] [--batch 2]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../native/models/checkpoint.js';
import { loadDiffusionModel } from '../native/runtime/diffusion-model.js';
import { LoadCache } from '../native/runtime/load-cache.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const self = fileURLToPath(import.meta.url);

export interface LoadBenchOptions {
  latent: number;
  batch: number;
  threads?: number;
}

interface ChildResult {
  hashMs: number;
  loadMs: number;
  parts: { graph: number; weights: number; session: number };
  outcome: string;
  firstEvalMs: number;
  evalMs: number;
  maxRssGiB: number;
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

function child(model: string, cacheDir: string | undefined, o: LoadBenchOptions): Promise<ChildResult> {
  const args = ['--import', 'tsx', self, '--model', model, '--latent', String(o.latent), '--batch', String(o.batch)];
  if (cacheDir) args.push('--cache', cacheDir);
  if (o.threads) args.push('--threads', String(o.threads));
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => (code === 0 ? ok(JSON.parse(out.trim().split('\n').pop() ?? '') as ChildResult) : fail(new Error(`load bench child exited ${code}`))));
  });
}

/** The load rows for bench-engine's table (label, value). */
export async function benchEngineLoad(model: string, o: LoadBenchOptions): Promise<Array<[string, string]>> {
  if (process.env.EASEL_BENCH_LOAD === '0') return [];
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-load-cache-'));
  try {
    const none = await child(model, undefined, o);
    const cold = await child(model, dir, o);
    const warm = await child(model, dir, o);
    const shape = `batch ${o.batch}, ${o.latent}×${o.latent}`;
    const split = (r: ChildResult) => `${fmt(r.hashMs)} / ${fmt(r.parts.graph)} / ${fmt(r.parts.weights)} / ${fmt(r.parts.session)}`;
    return [
      [`UNet load, no load cache: checkpoint → ready session (${shape})`, fmt(none.loadMs)],
      [`UNet load, cold load cache (first load, stores the entry)`, `${fmt(cold.loadMs)} (${cold.outcome})`],
      [`UNet load, warm load cache (loaded before)`, `${fmt(warm.loadMs)} (${warm.outcome})`],
      ['  cold / warm: checkpoint hash / graph build / weights fill / ORT session', `${split(cold)} | ${split(warm)}`],
      ['UNet per evaluation: no cache / cold / warm session', `${fmt(none.evalMs)} / ${fmt(cold.evalMs)} / ${fmt(warm.evalMs)}`],
      ['UNet first evaluation: no cache / cold / warm session', `${fmt(none.firstEvalMs)} / ${fmt(cold.firstEvalMs)} / ${fmt(warm.firstEvalMs)}`],
      ['peak RSS of load + 2 evaluations: no cache / cold / warm', `${none.maxRssGiB.toFixed(2)} / ${cold.maxRssGiB.toFixed(2)} / ${warm.maxRssGiB.toFixed(2)} GiB`],
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One measured load in this process (the child side). */
async function childMain(): Promise<number> {
  const v = parseFlags({ model: { type: 'string' }, cache: { type: 'string' }, latent: { type: 'string', default: '64' }, batch: { type: 'string', default: '2' }, threads: { type: 'string' } }, 'bench-engine-load --model FILE [--cache DIR] [--latent N] [--batch N] [--threads N]');
  if (!v) return 0;
  if (!v.model) throw new Error('--model is required');
  const [latent, batch] = [Number(v.latent), Number(v.batch)];
  const t0 = performance.now();
  const ckpt = await openCheckpoint(v.model);
  const runtime = await createEngineRuntime({ device: 'cpu', ...(v.threads ? { intraOpThreads: Number(v.threads) } : {}) });
  const cache = v.cache ? new LoadCache({ dir: v.cache, onWarning: (m) => console.error(`load cache: ${m}`) }) : undefined;
  const th = performance.now();
  const loadCache = cache ? { cache, checkpoint: await cache.checkpointSha256(v.model) } : undefined;
  const hashMs = performance.now() - th;
  const model = await loadDiffusionModel(ckpt, { runtime, loadCache, maxSessionsPerPart: 1 });
  const dims = { batch, h: latent, w: latent, tokens: 77 };
  await model.unet.prepare(dims);
  const loadMs = performance.now() - t0;
  const cfg = ckpt.config.unet;
  const x = new Float32Array(batch * cfg.in_channels * latent * latent).map((_, i) => Math.sin(i));
  const ctx = new Float32Array(batch * 77 * cfg.context_dim).map((_, i) => Math.cos(i) * 0.1);
  const y = cfg.adm_in_channels === undefined ? undefined : new Float32Array(batch * cfg.adm_in_channels);
  const t = new Float32Array(batch).fill(500);
  let s = performance.now();
  await model.unet.eps(x, t, ctx, dims, y);
  const firstEvalMs = performance.now() - s;
  s = performance.now();
  await model.unet.eps(x, t, ctx, dims, y);
  const evalMs = performance.now() - s;
  const outcomes = model.cacheOutcomes().unet;
  const result: ChildResult = {
    hashMs,
    loadMs,
    parts: model.loadTimes().unet,
    outcome: cache ? (Object.entries(outcomes).find(([, n]) => n > 0)?.[0] ?? 'none') : 'none',
    firstEvalMs,
    evalMs,
    maxRssGiB: process.resourceUsage().maxRSS / 1024 / 1024,
  };
  await model.dispose();
  await ckpt.close();
  console.log(JSON.stringify(result));
  return 0;
}

if (process.argv[1] === self) {
  reexecWithHugePages();
  runMain(childMain);
}

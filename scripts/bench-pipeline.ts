// End-to-end figures of the txt2img pipeline, used by `npm run bench:engine -- --pipeline`: seconds
// per image, its peak resident memory, the sampler's own cost per step outside the UNet (guidance,
// sampler arithmetic, noise), and the cost of one live preview. Each ENGINE_MEMORY mode runs in a
// fresh process of its own (so one mode's peak is not the other's), as the server's engine worker
// would: with a load cache (a temporary one, filled by the first process's warm-up image) and huge
// pages. Measures; asserts nothing.
//
// Also runnable alone (one mode): npx tsx scripts/bench-pipeline.ts --model FILE --tokenizer DIR --cache DIR --memory lowest|low|normal
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generate } from '../native/pipelines/generate.js';
import { previewJpeg } from '../native/pipelines/preview.js';
import { loadEngine, type Engine } from '../native/pipelines/engine.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';
import { LoadCache } from '../native/runtime/load-cache.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import type { EngineMemory } from '../native/runtime/memory-mode.js';
import type { SamplerId } from '../native/sampling/names.js';
import { peakRssSinceReset, resetPeakRss } from './bench-rss.js';
import { parseFlags, runMain } from './cli.js';

const self = fileURLToPath(import.meta.url);

export interface PipelineBenchOptions {
  model: string;
  tokenizerDir: string;
  size: number;
  steps: number;
  sampler: SamplerId;
  threads?: number;
}

export interface PipelineBenchRow {
  what: string;
  value: string;
}

/** What one process measured (the child side). */
interface ModeResult {
  memory: EngineMemory;
  warmMs: number;
  totalMs: number;
  unetMs: number;
  unetCalls: number;
  samplingMs: number;
  overheadPerStepMs: number;
  previewMs: number;
  /** VmHWM over the measured image only (reset after the warm-up image), bytes. */
  imagePeak: number | undefined;
  /** The whole process's peak (loads, warm-up and image), bytes. */
  processPeak: number;
}

const gib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 2 ** 30).toFixed(2)} GiB`);
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function child(opts: PipelineBenchOptions, cacheDir: string, memory: EngineMemory): Promise<ModeResult> {
  const args = ['--import', 'tsx', self, '--model', opts.model, '--tokenizer', opts.tokenizerDir, '--cache', cacheDir, '--memory', memory];
  args.push('--size', String(opts.size), '--steps', String(opts.steps), '--sampler', opts.sampler);
  if (opts.threads) args.push('--threads', String(opts.threads));
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => (code === 0 ? ok(JSON.parse(out.trim().split('\n').pop() ?? '') as ModeResult) : fail(new Error(`pipeline bench child exited ${code}`))));
  });
}

/** The end-to-end rows for bench-engine's table: ENGINE_MEMORY=normal, low, then lowest, each in a fresh process. */
export async function benchPipeline(opts: PipelineBenchOptions): Promise<PipelineBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-pipeline-cache-'));
  try {
    const normal = await child(opts, dir, 'normal');
    const low = await child(opts, dir, 'low');
    const lowest = await child(opts, dir, 'lowest');
    const what = `${opts.steps} steps ${opts.sampler} at ${opts.size}² (CFG 7)`;
    return [
      { what: `first image incl. session creation (1 step, ${opts.size}², empty load cache)`, value: sec(normal.warmMs) },
      { what: `seconds per image, ${what}, ENGINE_MEMORY=normal / low / lowest`, value: `${sec(normal.totalMs)} / ${sec(low.totalMs)} / ${sec(lowest.totalMs)}` },
      { what: `peak RSS of that image, ENGINE_MEMORY=normal / low / lowest`, value: `${gib(normal.imagePeak)} / ${gib(low.imagePeak)} / ${gib(lowest.imagePeak)}` },
      { what: `peak RSS of the whole process (loads + 2 images), normal / low / lowest`, value: `${gib(normal.processPeak)} / ${gib(low.processPeak)} / ${gib(lowest.processPeak)}` },
      { what: 'UNet share of sampling (normal)', value: `${((100 * normal.unetMs) / Math.max(normal.samplingMs, 1)).toFixed(1)} % (${normal.unetCalls} calls)` },
      { what: 'sampler overhead per step outside the UNet (normal)', value: `${normal.overheadPerStepMs.toFixed(1)} ms` },
      { what: 'text encoding + VAE decode + PNG-ready pixels, normal / low', value: `${sec(normal.totalMs - normal.samplingMs)} / ${sec(low.totalMs - low.samplingMs)}` },
      { what: `preview (cheap latent→RGB + JPEG, ${opts.size / 8}² latent)`, value: `${normal.previewMs.toFixed(2)} ms` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Times one warm txt2img run with the UNet calls timed separately, and the preview encoder (the child side). */
async function measure(opts: PipelineBenchOptions, cacheDir: string, memory: EngineMemory): Promise<ModeResult> {
  const cache = new LoadCache({ dir: cacheDir, onWarning: (m) => console.error(`load cache: ${m}`) });
  const runtime = await createEngineRuntime({ device: 'cpu', ...(opts.threads ? { intraOpThreads: opts.threads } : {}) });
  const loaded = await loadEngine(opts.model, { tokenizerDir: opts.tokenizerDir, loadCache: cache, memory, runtime });
  let unetMs = 0;
  let unetCalls = 0;
  let firstUnetAt = 0;
  const unet = loaded.model.unet;
  const timedEngine: Engine = {
    ...loaded,
    model: Object.assign(Object.create(Object.getPrototypeOf(loaded.model) as object) as typeof loaded.model, loaded.model, {
      unet: Object.assign(Object.create(Object.getPrototypeOf(unet) as object) as typeof unet, unet, {
        eps: async (...args: Parameters<typeof unet.eps>) => {
          const t0 = performance.now();
          if (unetCalls === 0) firstUnetAt = t0;
          try {
            return await unet.eps(...args);
          } finally {
            unetMs += performance.now() - t0;
            unetCalls++;
          }
        },
      }),
    }),
  };
  const request = {
    task: 'txt2img' as const,
    prompt: 'a photograph of an astronaut riding a horse',
    negative_prompt: '',
    width: opts.size,
    height: opts.size,
    steps: opts.steps,
    cfg_scale: 7,
    sampler: opts.sampler,
    scheduler: 'automatic' as const,
    seed: 1,
    batch_size: 1,
    n_iter: 1,
    rng: 'nv' as const,
    clip_skip: 1,
  };
  try {
    // Warm-up with one step creates every session (text encoder, UNet, VAE decoder) for this shape.
    const w0 = performance.now();
    await generate(timedEngine, { ...request, steps: 1 });
    const warmMs = performance.now() - w0;
    unetMs = 0;
    unetCalls = 0;
    const stepMarks: number[] = [];
    const processPeakBefore = process.resourceUsage().maxRSS * 1024;
    const resetOk = resetPeakRss();
    const t0 = performance.now();
    await generate(timedEngine, request, { onProgress: () => stepMarks.push(performance.now()) });
    const totalMs = performance.now() - t0;
    const imagePeak = resetOk ? peakRssSinceReset() : undefined;
    // Sampling runs from the first UNet call to the last step (text encoding comes before it).
    const samplingMs = stepMarks.length > 0 ? stepMarks[stepMarks.length - 1]! - firstUnetAt : 0;

    const latent = new Float32Array(4 * (opts.size / 8) ** 2).map((_, i) => Math.sin(i));
    const reps = 20;
    const p0 = performance.now();
    for (let i = 0; i < reps; i++) await previewJpeg(latent, { batch: 1, h: opts.size / 8, w: opts.size / 8 });
    const previewMs = (performance.now() - p0) / reps;
    // The reset above also lowered the kernel's maxRSS: the process peak is the larger of the two.
    const processPeak = Math.max(processPeakBefore, process.resourceUsage().maxRSS * 1024);
    return { memory, warmMs, totalMs, unetMs, unetCalls, samplingMs, overheadPerStepMs: (samplingMs - unetMs) / opts.steps, previewMs, imagePeak, processPeak };
  } finally {
    await loaded.dispose();
  }
}

async function childMain(): Promise<number> {
  const v = parseFlags(
    {
      model: { type: 'string' }, tokenizer: { type: 'string' }, cache: { type: 'string' }, memory: { type: 'string', default: 'normal' },
      size: { type: 'string', default: '512' }, steps: { type: 'string', default: '20' }, sampler: { type: 'string', default: 'euler_a' }, threads: { type: 'string' },
    },
    'bench-pipeline --model FILE --tokenizer DIR --cache DIR [--memory lowest|low|normal] [--size N] [--steps N] [--sampler ID] [--threads N]',
  );
  if (!v) return 0;
  if (!v.model || !v.tokenizer || !v.cache) throw new Error('--model, --tokenizer and --cache are required');
  if (v.memory !== 'lowest' && v.memory !== 'low' && v.memory !== 'normal') throw new Error('--memory must be lowest, low or normal');
  const opts: PipelineBenchOptions = { model: v.model, tokenizerDir: v.tokenizer, size: Number(v.size), steps: Number(v.steps), sampler: v.sampler as SamplerId, threads: v.threads ? Number(v.threads) : undefined };
  console.log(JSON.stringify(await measure(opts, v.cache, v.memory)));
  return 0;
}

if (process.argv[1] === self) {
  reexecWithHugePages();
  runMain(childMain);
}

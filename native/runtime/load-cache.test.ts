// The on-disk load cache with the tiny SD1 fixture: hits, misses on any key change, the size bound,
// damaged entries, two racing processes and a cache that cannot be written. Every cached session
// must compute exactly what an uncached one computes.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { loadDiffusionModel, type ModelCheckpoint } from './diffusion-model.js';
import { LoadCache, loadCacheFromEnv, WEIGHTS_FILE } from './load-cache.js';
import { createEngineRuntime, type EngineRuntime } from './ort-backend.js';
import type { PartWeights } from './model-part.js';
import type { WeightSource } from './weights.js';
import { trimHeap } from './heap-trim.js';

// counts the trims of onePartAtATime (the real trim still runs)
vi.mock('./heap-trim.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./heap-trim.js')>();
  return { trimHeap: vi.fn(real.trimHeap) };
});

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const DIMS = { batch: 1, h: 8, w: 8, tokens: 77 };
const X = new Float32Array(4 * 64).map((_, i) => Math.sin(i));
const CTX = new Float32Array(77 * 32).map((_, i) => Math.cos(i) * 0.1);
const UNET_KEY = 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight';

let ckpt: Checkpoint;
let runtime: EngineRuntime;
let work: string;
const sha = new Map<string, string>();

beforeAll(async () => {
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  runtime = await createEngineRuntime({ device: 'cpu' });
  work = mkdtempSync(join(tmpdir(), 'easel-load-cache-test-'));
});
afterAll(async () => {
  await ckpt?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A source whose one UNet tensor is scaled by `m` (what a LoRA merge does to a part's weights). */
function scaled(base: WeightSource, m: number): WeightSource {
  return {
    shape: (k) => base.shape(k),
    readFloat32: async (k) => {
      const w = await base.readFloat32(k);
      return k === UNET_KEY ? w.map((v) => v * m) : w;
    },
  };
}

interface RunOpts {
  cache?: LoadCache;
  checkpoint?: ModelCheckpoint;
  path?: string;
  weights?: PartWeights;
  dims?: typeof DIMS;
}

/** One UNet evaluation on a freshly loaded model; returns the output and the UNet's cache outcome. */
async function unet(opts: RunOpts = {}): Promise<{ out: Float32Array; outcome: string | undefined }> {
  const path = opts.path ?? sd1TinyPath('model.safetensors');
  const c = opts.cache;
  let checkpoint = sha.get(path);
  if (c && !checkpoint) {
    checkpoint = await c.checkpointSha256(path);
    sha.set(path, checkpoint);
  }
  // the UNet alone (its cross-attention K/V in the graph): one cache entry per load
  const model = await loadDiffusionModel(opts.checkpoint ?? ckpt, { runtime, loadCache: c && checkpoint ? { cache: c, checkpoint } : undefined, unetContextKV: false });
  try {
    if (opts.weights) model.useWeights('unet', opts.weights);
    const dims = opts.dims ?? DIMS;
    const x = new Float32Array(4 * dims.h * dims.w).map((_, i) => Math.sin(i));
    const out = await model.unet.eps(x, new Float32Array([500]), CTX, dims);
    const outcome = Object.entries(model.cacheOutcomes().unet).find(([, n]) => n > 0)?.[0];
    return { out, outcome };
  } finally {
    await model.dispose();
  }
}

const freshCache = (name: string, maxBytes?: number) => new LoadCache({ dir: join(work, name), maxBytes });

describe('load cache', () => {
  it('misses, then hits, with outputs identical to an uncached session', async () => {
    const cache = freshCache('hit');
    const plain = await unet();
    const first = await unet({ cache });
    const second = await unet({ cache });
    expect([plain.outcome, first.outcome, second.outcome]).toEqual([undefined, 'miss', 'hit']);
    expect(Array.from(first.out)).toEqual(Array.from(plain.out));
    expect(Array.from(second.out)).toEqual(Array.from(plain.out));
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, corrupt: 0 });
    expect(readdirSync(join(cache.dir, 'tmp')).length).toBe(0);
    expect(readdirSync(join(cache.dir, 'locks')).length).toBe(0);
  });

  it('misses after the checkpoint file changes, without recomputing hashes of unchanged files', async () => {
    const cache = freshCache('file');
    const path = join(work, 'copy.safetensors');
    copyFileSync(sd1TinyPath('model.safetensors'), path);
    const h1 = await cache.checkpointSha256(path);
    expect(await cache.checkpointSha256(path)).toBe(h1);
    const a = await openCheckpoint(path);
    try {
      expect((await unet({ cache, checkpoint: a, path })).outcome).toBe('miss');
      expect((await unet({ cache, checkpoint: a, path })).outcome).toBe('hit');
    } finally {
      await a.close();
    }
    // change one byte of the last tensor's data (same size): a new hash, so a new entry
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([0x3c]), 0, 1, size - 3);
    closeSync(fd);
    sha.delete(path);
    const h2 = await cache.checkpointSha256(path);
    expect(h2).not.toBe(h1);
    const b = await openCheckpoint(path);
    try {
      expect((await unet({ cache, checkpoint: b, path })).outcome).toBe('miss');
    } finally {
      await b.close();
    }
    expect(readdirSync(join(cache.dir, 'entries')).length).toBe(2);
  });

  it('misses when the LoRA set (weights id) changes and hits when it comes back', async () => {
    const cache = freshCache('lora');
    const base = await unet({ cache });
    const setA = { id: 'unet-loraA@0.8', source: scaled(ckpt, 0.8) };
    const setB = { id: 'unet-loraA@0.5', source: scaled(ckpt, 0.5) };
    const a = await unet({ cache, weights: setA });
    const b = await unet({ cache, weights: setB });
    const a2 = await unet({ cache, weights: setA });
    expect([base.outcome, a.outcome, b.outcome, a2.outcome]).toEqual(['miss', 'miss', 'miss', 'hit']);
    expect(Array.from(a2.out)).toEqual(Array.from(a.out));
    expect(Array.from(a.out)).not.toEqual(Array.from(b.out));
    const uncachedA = await unet({ weights: setA });
    expect(Array.from(a.out)).toEqual(Array.from(uncachedA.out));
  });

  it('keeps one entry per shape, each hit afterwards', async () => {
    const cache = freshCache('shapes');
    const big = { batch: 1, h: 16, w: 16, tokens: 77 };
    const [a, b] = [await unet({ cache }), await unet({ cache, dims: big })];
    expect([a.outcome, b.outcome]).toEqual(['miss', 'miss']);
    expect(readdirSync(join(cache.dir, 'entries')).length).toBe(2);
    const b2 = await unet({ cache, dims: big });
    expect(b2.outcome).toBe('hit');
    expect(Array.from(b2.out)).toEqual(Array.from(b.out));
  });

  it('stays within its size bound, evicting the least recently used entry', async () => {
    const probe = freshCache('probe');
    await unet({ cache: probe });
    const one = await probe.usage();
    expect(one).toBeGreaterThan(0);
    const cache = freshCache('bound', Math.floor(one * 1.5));
    const setA = { id: 'unet-a', source: scaled(ckpt, 0.9) };
    await unet({ cache });
    await unet({ cache, weights: setA });
    expect(cache.stats.evicted).toBe(1);
    expect(await cache.usage()).toBeLessThanOrEqual(cache.maxBytes);
    // the newest (set A) stayed, the older (base) went
    expect((await unet({ cache, weights: setA })).outcome).toBe('hit');
    expect((await unet({ cache })).outcome).toBe('miss');
    // an entry larger than the whole bound is never stored
    const tiny = freshCache('tiny', 1000);
    expect((await unet({ cache: tiny })).outcome).toBe('bypass');
    expect(await tiny.usage()).toBe(0);
  });

  it('rebuilds a garbled or truncated entry instead of using it', async () => {
    const cache = freshCache('corrupt');
    const good = await unet({ cache });
    const [entry] = readdirSync(join(cache.dir, 'entries'));
    const weights = join(cache.dir, 'entries', entry, WEIGHTS_FILE);
    // garble: same size, different bytes in the middle (the size check alone would pass)
    const fd = openSync(weights, 'r+');
    writeSync(fd, Buffer.alloc(64, 0x7f), 0, 64, Math.floor(statSync(weights).size / 2));
    closeSync(fd);
    const fresh = new LoadCache({ dir: cache.dir }); // a new process: nothing verified yet
    const again = await unet({ cache: fresh });
    expect(again.outcome).toBe('miss');
    expect(fresh.stats.corrupt).toBe(1);
    expect(Array.from(again.out)).toEqual(Array.from(good.out));
    // truncate the rebuilt entry's model file: detected by size even in the process that verified it
    const [entry2] = readdirSync(join(cache.dir, 'entries'));
    const model = join(cache.dir, 'entries', entry2, 'model.onnx');
    truncateSync(model, Math.floor(statSync(model).size / 2));
    const third = await unet({ cache: fresh });
    expect(third.outcome).toBe('miss');
    expect(fresh.stats.corrupt).toBe(2);
    expect(Array.from(third.out)).toEqual(Array.from(good.out));
    // a garbled manifest
    const [entry3] = readdirSync(join(cache.dir, 'entries'));
    writeFileSync(join(cache.dir, 'entries', entry3, 'manifest.json'), '{"format":');
    expect((await unet({ cache: fresh })).outcome).toBe('miss');
  });

  it('loads without the cache when it cannot be written', async () => {
    const plain = await unet();
    // the cache folder's parent is a file: nothing can be created
    const blocker = join(work, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const warnings: string[] = [];
    const broken = new LoadCache({ dir: join(blocker, 'cache'), onWarning: (m) => warnings.push(m) });
    const r = await unet({ cache: broken, path: sd1TinyPath('model.safetensors') });
    expect(r.outcome).toBe('bypass');
    expect(Array.from(r.out)).toEqual(Array.from(plain.out));
    expect(warnings.length).toBeGreaterThan(0);
    // the entry cannot be moved into place (entries/ is a file): the load still succeeds, uncached
    const cache = freshCache('no-entries');
    await cache.checkpointSha256(sd1TinyPath('model.safetensors'));
    writeFileSync(join(cache.dir, 'entries'), 'x');
    const r2 = await unet({ cache });
    expect(r2.outcome).toBe('miss');
    expect(Array.from(r2.out)).toEqual(Array.from(plain.out));
    expect(readdirSync(join(cache.dir, 'tmp')).length).toBe(0);
    expect((await unet({ cache })).outcome).toBe('miss');
  });

  it('lets two processes race for one entry: one builds, the other waits and uses it', async () => {
    const dir = join(work, 'race');
    const child = () =>
      new Promise<{ outcome: string; digest: string; waited: number; warnings: string }>((ok, fail) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join(here, 'test', 'load-cache-child.ts'), dir, '1500'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => (code === 0 ? ok({ ...JSON.parse(out.trim().split('\n').pop() ?? ''), warnings: err }) : fail(new Error(`child exited ${code}: ${err}`))));
      });
    const [a, b] = await Promise.all([child(), child()]);
    // the children's load-cache warnings say why, should one of them not use the other's entry
    expect([a.outcome, b.outcome].sort(), `warnings: ${a.warnings} | ${b.warnings}`).toEqual(['hit', 'miss']);
    expect(a.waited + b.waited).toBe(1);
    expect(a.digest).toBe(b.digest);
    expect(readdirSync(join(dir, 'entries')).length).toBe(1);
    expect(readdirSync(join(dir, 'tmp')).length).toBe(0);
    expect(readdirSync(join(dir, 'locks')).length).toBe(0);
  }, 60_000);

  it('onePartAtATime frees the other parts before one runs and re-opens them from the cache', async () => {
    const cache = freshCache('release');
    const checkpoint = await cache.checkpointSha256(sd1TinyPath('model.safetensors'));
    const ids = new Int32Array(77).fill(49407);
    ids[0] = 49406;
    const model = await loadDiffusionModel(ckpt, { runtime, loadCache: { cache, checkpoint }, onePartAtATime: true });
    try {
      const trims = vi.mocked(trimHeap);
      trims.mockClear();
      const c1 = await model.textEncoder.encode(ids, 1);
      expect(trims).not.toHaveBeenCalled(); // nothing was open to free
      const e1 = await model.unet.eps(X, new Float32Array([500]), CTX, DIMS);
      const c2 = await model.textEncoder.encode(ids, 1);
      const e2 = await model.unet.eps(X, new Float32Array([500]), CTX, DIMS);
      // the heap is trimmed after each part switch, once the other part's sessions are freed, and
      // once the context graph has made this prompt's K/V (its session is freed then, not held
      // beside the UNet's): text encoder → context graph, context freed, → text encoder → UNet
      expect(trims).toHaveBeenCalledTimes(4);
      expect(model.unet.contextRuns).toBe(1); // the same context again: its K/V are kept
      expect(model.sessionsCreated()['unet-context']).toBe(1);
      // each part's session was freed by the other's run and re-opened from its entry
      expect(model.sessionsCreated()['text-encoder']).toBe(2);
      expect(model.cacheOutcomes()['text-encoder']).toEqual({ hit: 1, miss: 1, bypass: 0 });
      expect(model.sessionsCreated().unet).toBe(2);
      expect(model.cacheOutcomes().unet).toEqual({ hit: 1, miss: 1, bypass: 0 });
      // two runs of one part in a row keep its session, and free nothing
      await model.unet.eps(X, new Float32Array([500]), CTX, DIMS);
      expect(model.sessionsCreated().unet).toBe(2);
      expect(trims).toHaveBeenCalledTimes(4);
      // one shape at a time too: a second UNet shape (a hires pass) replaces the first session
      // instead of holding a second copy of the weights beside it
      const big = { ...DIMS, h: 16, w: 16 };
      await model.unet.eps(new Float32Array(4 * 256).map((_, i) => Math.sin(i)), new Float32Array([500]), CTX, big);
      await model.unet.eps(X, new Float32Array([500]), CTX, DIMS);
      expect(model.sessionsCreated().unet).toBe(4);
      expect(Array.from(c2)).toEqual(Array.from(c1));
      expect(Array.from(e2)).toEqual(Array.from(e1));
      expect(Array.from(e1)).toEqual(Array.from((await unet()).out));
    } finally {
      await model.dispose();
    }
  });

  it('is configured by LOAD_CACHE_DIR / LOAD_CACHE_MAX_MB (0 = off)', () => {
    expect(loadCacheFromEnv('/x', { LOAD_CACHE_MAX_MB: '0' })).toBeUndefined();
    const c = loadCacheFromEnv('/x', { LOAD_CACHE_DIR: join(work, 'env'), LOAD_CACHE_MAX_MB: '2' });
    expect(c?.dir).toBe(join(work, 'env'));
    expect(c?.maxBytes).toBe(2 * 1024 * 1024);
    expect(loadCacheFromEnv('/x', {})?.dir).toBe('/x');
    expect(() => loadCacheFromEnv('/x', { LOAD_CACHE_MAX_MB: 'lots' })).toThrow(/LOAD_CACHE_MAX_MB/);
    expect(existsSync('/x')).toBe(false);
  });
});

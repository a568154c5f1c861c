// `npm run bench:server`: gallery page query times at 100,000 rows (GalleryStore.insertRecords into
// a temporary database, then list(): first page, deep keyset page, filtered, full-text search) and
// events per second delivered to 100 connected Socket.IO clients. Prints a table; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io as connectClient, type Socket } from 'socket.io-client';
import { openDatabase } from '../server/gallery/database.js';
import { GalleryStore, type ImportedImageRecord } from '../server/gallery/gallery-store.js';
import type { GalleryQuery } from '../server/protocol/gallery.js';
import { GalleryQuerySchema } from '../server/protocol/gallery.js';
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/server.js';

const HELP = `usage: npm run bench:server [-- --rows N --clients N --events N]
  --rows N      gallery rows to insert (default 100000)
  --clients N   connected Socket.IO clients (default 100)
  --events N    broadcast events to send (default 2000)`;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const WORDS = ['cat', 'dog', 'castle', 'forest', 'neon', 'portrait', 'landscape', 'ocean', 'city', 'dragon', 'robot', 'sunset', 'mountain', 'flower', 'knight', 'cyberpunk', 'watercolor', 'oil', 'painting', 'photo'];
const MODELS = ['sd15.safetensors', 'dreamshaper_8.safetensors', 'realisticVision.safetensors', 'anything-v5.safetensors'];

/** Small deterministic PRNG so runs are comparable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function records(n: number): ImportedImageRecord[] {
  const r = rng(1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const start = Date.parse('2025-01-01T00:00:00Z');
  const out: ImportedImageRecord[] = [];
  for (let i = 0; i < n; i++) {
    const created = start + i * 60_000;
    const day = new Date(created).toISOString().slice(0, 10);
    const prompt = Array.from({ length: 8 }, () => pick(WORDS)).join(' ');
    const size = pick([512, 768, 1024]);
    out.push({
      created_at: created,
      file: `${day}/${created}-${i}.png`,
      infotext: `${prompt}\nSteps: 20, Sampler: Euler a, Seed: ${i}`,
      favorite: r() < 0.05,
      task: r() < 0.8 ? 'txt2img' : 'img2img',
      prompt,
      negative_prompt: 'blurry, lowres',
      model: pick(MODELS),
      width: size,
      height: pick([512, 768, 1024]),
      seed: i,
      steps: 20,
      cfg_scale: 7,
      sampler: 'euler_a',
      scheduler: 'automatic',
    });
  }
  return out;
}

function stats(samples: number[]): { median: number; p95: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

function time(runs: number, fn: () => void): { median: number; p95: number } {
  fn(); // warm the statement cache
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

const q = (input: Record<string, unknown>): GalleryQuery => GalleryQuerySchema.parse(input);

async function benchGallery(rows: number): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-'));
  try {
    const db = openDatabase(join(dir, 'gallery.db'));
    const store = new GalleryStore({ db, dataDir: dir });
    const recs = records(rows);
    let t = performance.now();
    for (let i = 0; i < recs.length; i += 10_000) store.insertRecords(recs.slice(i, i + 10_000));
    const insertMs = performance.now() - t;

    // A cursor halfway down the gallery, reached by walking pages as a scrolling client would.
    t = performance.now();
    let cursor: string | null = null;
    let pages = 0;
    for (; pages < Math.floor(rows / 2 / 200); pages++) cursor = store.list(q({ limit: 200, ...(cursor ? { cursor } : {}) })).next_cursor;
    const walkMs = performance.now() - t;
    const deep = cursor!;

    const out: string[][] = [['gallery', 'insertRecords', `${rows} rows`, `${insertMs.toFixed(0)} ms total`, `${((rows / insertMs) * 1000).toFixed(0)} rows/s`]];
    const row = (name: string, query: Record<string, unknown>): void => {
      const res = store.list(q(query));
      const s = time(50, () => store.list(q(query)));
      out.push(['gallery', name, `${res.items.length} items`, `${s.median.toFixed(2)} ms median`, `${s.p95.toFixed(2)} ms p95`]);
    };
    row('first page (50)', {});
    row(`deep keyset page (row ${pages * 200})`, { cursor: deep });
    row('filtered (model+task+min_width)', { model: MODELS[1], task: 'txt2img', min_width: 768 });
    row('filtered favorites', { favorite: true });
    row('date range', { date_from: '2025-02-01', date_to: '2025-02-10' });
    row('full-text search (2 words)', { search: 'dragon castle' });
    row('full-text search + deep cursor', { search: 'neon', cursor: store.list(q({ search: 'neon', limit: 200 })).next_cursor ?? undefined });
    out.push(['gallery', `walk ${pages} pages of 200`, `${pages * 200} rows`, `${walkMs.toFixed(0)} ms total`, `${(walkMs / pages).toFixed(2)} ms/page`]);
    db.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Child mode: connect the clients here, so decoding them does not share the server's event loop. */
async function clientsChild(url: string, token: string, clients: number, expected: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const s = connectClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    sockets.push(s);
  }
  let received = 0;
  let lost = 0;
  for (const s of sockets) s.on('disconnect', () => lost++);
  // Progress reports let the parent notice a stall (a client dropped under load) instead of hanging.
  const ticker = setInterval(() => process.send?.({ type: 'count', n: received, lost }), 250);
  for (const s of sockets)
    s.on('progress', () => {
      if (++received === expected) {
        clearInterval(ticker);
        process.send?.({ type: 'done', n: received, lost });
        for (const x of sockets) x.close();
        process.disconnect?.();
      }
    });
  process.send?.({ type: 'ready' });
}

async function benchEvents(clients: number, events: number): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-'));
  const config = loadConfig({ PORT: '0', DATA_DIR: dir, MODELS_DIR: join(dir, 'models'), LOG_LEVEL: 'silent', CONN_RATE_LIMIT: String(clients * 2) });
  const server = await startServer(config);
  const expected = clients * events;
  const child = fork(fileURLToPath(import.meta.url), ['--clients-child', server.url, server.token, String(clients), String(expected)], {
    execArgv: ['--import', 'tsx'],
  });
  try {
    let last = { n: 0, lost: 0, at: performance.now() };
    child.on('message', (m: { type?: string; n?: number; lost?: number }) => {
      if (typeof m.n === 'number' && m.n !== last.n) last = { n: m.n, lost: m.lost ?? 0, at: performance.now() };
    });
    const message = (type: string, stallMs = Infinity): Promise<void> =>
      new Promise((resolve, reject) => {
        const stall = setInterval(() => {
          if (performance.now() - last.at > stallMs) {
            clearInterval(stall);
            reject(new Error(`stalled at ${last.n} of ${expected} deliveries (${last.lost} clients dropped)`));
          }
        }, 500);
        const on = (m: { type?: string }): void => {
          if (m.type !== type) return;
          clearInterval(stall);
          child.off('message', on);
          resolve();
        };
        child.on('message', on);
        child.once('exit', (code) => reject(new Error(`client process exited (${code}) before ${type}`)));
      });
    await message('ready');
    const done = message('done', 20_000);
    const t = performance.now();
    last.at = t;
    for (let i = 0; i < events; i++) {
      server.events.toAll('progress', { job_id: 'bench', step: i, total: events, status: 'running' });
      // Yield now and then, as a real engine cadence would, so socket writes drain.
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    await done;
    const ms = performance.now() - t;
    return [['socket.io', `broadcast to ${clients} clients (other process)`, `${events} events`, `${ms.toFixed(0)} ms total`, `${((expected / ms) * 1000).toFixed(0)} deliveries/s`]];
  } finally {
    child.kill();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--clients-child');
  if (childAt >= 0) {
    const [url, token, n, expected] = process.argv.slice(childAt + 1);
    return clientsChild(url!, token!, Number(n), Number(expected));
  }
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const rows = arg('rows', 100_000);
  const clients = arg('clients', 100);
  const events = arg('events', 2000);
  const table = [['part', 'measure', 'size', 'time', 'rate'], ...(await benchGallery(rows)), ...(await benchEvents(clients, events))];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const [i, r] of table.entries()) {
    console.log('| ' + r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ') + ' |');
    if (i === 0) console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// `npm run bench:sdapi`: what the A1111 API costs on top of the same job over Socket.IO. Starts the
// server with the real engine and a tiny random checkpoint (made here, never downloaded), then
// alternates the same txt2img over POST /sdapi/v1/txt2img (PNG inline, base64) and over the socket
// (`generate`, wait for `complete`, GET the signed image URL), and reports the median wall time of
// each and the answer size of one 512×512 image. Prints a table; asserts nothing.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { io as connectClient, type Socket } from 'socket.io-client';
import { writeTinyCheckpoint } from '../native/models/random-checkpoint.js';
import { sd1TinyPath } from '../native/testing/fixtures.js';
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/server.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `usage: npm run bench:sdapi [-- --runs N --size PX --steps N]
  --runs N    jobs per path, alternating (default 10)
  --size PX   width and height of the timed jobs (default 64)
  --steps N   sampling steps of the timed jobs (default 2)`;

interface Timing {
  ms: number;
  before: number;
  after: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<number> {
  const flags = parseFlags({ runs: { type: 'string', default: '10' }, size: { type: 'string', default: '64' }, steps: { type: 'string', default: '2' } }, HELP);
  if (!flags) return 0;
  const runs = Number(flags.runs);
  const size = Number(flags.size);
  const steps = Number(flags.steps);
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-sdapi-'));
  const tok = join(dir, 'models', 'tokenizers', 'clip-vit-large-patch14');
  mkdirSync(tok, { recursive: true });
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(tok, f));
  mkdirSync(join(dir, 'models', 'checkpoints'), { recursive: true });
  await writeTinyCheckpoint(join(dir, 'models', 'checkpoints', 'tiny.safetensors'), { seed: 11 });
  const server = await startServer(loadConfig({ PORT: '0', DATA_DIR: dir, MODELS_DIR: join(dir, 'models'), WEB_DIST: join(dir, 'none'), LOG_LEVEL: 'silent', PREVIEW_EVERY: '0' }));
  const socket: Socket = connectClient(server.url, { auth: { token: server.token, client_id: 'bench' }, transports: ['websocket'] });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  // When each job entered the queue and when it finished, seen inside the server: the time around
  // them is what the API itself costs (request parsing and queueing before; answer after).
  const marks = new Map<string, { queued?: number; finished?: number }>();
  let lastQueued = '';
  server.jobEvents.subscribe((r) => {
    const m = marks.get(r.jobId) ?? {};
    if (r.event === 'queued') {
      m.queued = performance.now();
      lastQueued = r.jobId;
    }
    if (r.event === 'job:status' && (r.data as { status: string }).status === 'completed') m.finished = performance.now();
    marks.set(r.jobId, m);
  });
  const split = (t0: number, t1: number, jobId: string): Timing => {
    const m = marks.get(jobId)!;
    return { ms: t1 - t0, before: m.queued! - t0, after: t1 - m.finished! };
  };

  const viaSdapi = async (w: number, s: number, seed: number): Promise<Timing & { bytes: number; png: number }> => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/sdapi/v1/txt2img`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt: 'a house', width: w, height: w, steps: s, seed, sampler_name: 'Euler' }) });
    const text = await res.text();
    const body = JSON.parse(text) as { images: string[] };
    const png = Buffer.from(body.images[0]!, 'base64');
    return { ...split(t0, performance.now(), lastQueued), bytes: Buffer.byteLength(text), png: png.length };
  };
  const viaSocket = async (w: number, s: number, seed: number): Promise<Timing & { bytes: number }> => {
    const t0 = performance.now();
    const ack = (await socket.emitWithAck('generate', { prompt: 'a house', width: w, height: w, steps: s, seed, sampler: 'Euler' })) as { ok: boolean; job_id: string };
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const done = await new Promise<{ images: { url: string }[] }>((resolve) => {
      const on = (e: { job_id: string; images: { url: string }[] }): void => {
        if (e.job_id !== ack.job_id) return;
        socket.off('complete', on);
        resolve(e);
      };
      socket.on('complete', on);
    });
    const png = Buffer.from(await (await fetch(new URL(done.images[0]!.url, server.url))).arrayBuffer());
    return { ...split(t0, performance.now(), ack.job_id), bytes: png.length };
  };

  try {
    // Warm-up: model load and graph build happen once, on whichever path runs first.
    await viaSdapi(size, steps, 1);
    await viaSocket(size, steps, 1);
    const a: Timing[] = [];
    const b: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      a.push(await viaSdapi(size, steps, 100 + i));
      b.push(await viaSocket(size, steps, 100 + i));
    }
    const row = (name: string, t: Timing[]): string =>
      `| ${name} | ${median(t.map((x) => x.ms)).toFixed(1)} | ${median(t.map((x) => x.before)).toFixed(1)} | ${median(t.map((x) => x.after)).toFixed(1)} | ${median(t.map((x) => x.before + x.after)).toFixed(1)} |`;
    const big = await viaSdapi(512, 1, 7);
    const bigSocket = await viaSocket(512, 1, 7);
    console.log(`engine: ${server.supervisor.engineDevice}; tiny random SD1 checkpoint; ${runs} runs each, ${size}x${size}, ${steps} steps, Euler`);
    console.log('medians, ms: total = request to PNG in hand; before = request to job queued; after = job finished to PNG in hand');
    console.log('| path | total | before | after | API cost (before + after) |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(row('POST /sdapi/v1/txt2img (answer parsed, PNG decoded)', a));
    console.log(row('socket generate → complete → GET signed image URL', b));
    const cost = (t: Timing[]): number => median(t.map((x) => x.before + x.after));
    console.log(`| difference (sdapi − socket) | ${(median(a.map((x) => x.ms)) - median(b.map((x) => x.ms))).toFixed(1)} | | | ${(cost(a) - cost(b)).toFixed(1)} |`);
    console.log('');
    console.log('| one 512×512 image (tiny checkpoint, 1 step) | bytes |');
    console.log('| --- | --- |');
    console.log(`| /sdapi/v1/txt2img answer (JSON, base64 PNG + parameters + info) | ${big.bytes} |`);
    console.log(`| its PNG | ${big.png} |`);
    console.log(`| socket path: the PNG fetched from /files | ${bigSocket.bytes} |`);
  } finally {
    socket.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

runMain(main);

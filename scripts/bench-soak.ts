// Soak benchmark: many concurrent clients submit generate jobs on a tiny checkpoint (real engine
// worker), cancel some at random and drop and re-open their connections mid-job. Prints what
// became of the jobs, whether the gallery holds exactly the completed images, server and worker
// memory at start and end, and how late events reached the clients (p50/p99).
//
//   npm run bench:soak -- --jobs 1000 --clients 50 [--steps 2] [--size 64] [--cancel 0.1] [--reconnect 0.1] [--fake]
import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { loadConfig } from '../server/config.js';
import { startServer, DEFAULT_WORKER_ENTRY } from '../server/server.js';
import { writeTinyCheckpoint } from '../native/models/random-checkpoint.js';
import { sd1TinyPath } from '../native/testing/fixtures.js';
import { FAKE_WORKER } from '../server/test/helpers.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `npm run bench:soak -- [--jobs N] [--clients C] [--steps S] [--size PX] [--cancel P] [--reconnect P] [--fake] [--seed N]

  --jobs N        generate jobs in all (default 1000)
  --clients C     concurrent Socket.IO clients, one job in flight each (default 50)
  --steps S       sampling steps per job (default 2)
  --size PX       width and height (default 64)
  --cancel P      share of jobs cancelled at a random moment (default 0.1)
  --reconnect P   share of jobs during which the client disconnects and comes back (default 0.1)
  --fake          the test double instead of the real engine with a tiny checkpoint
  --seed N        seed of the random choices (default 1)`;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const nowMs = (): number => performance.timeOrigin + performance.now();

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rssOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const mib = (b: number | null): string => (b === null ? 'n/a' : `${(b / 1048576).toFixed(0)} MiB`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface ChildArgs {
  url: string;
  token: string;
  jobs: number;
  clients: number;
  steps: number;
  size: number;
  cancel: number;
  reconnect: number;
  seed: number;
}

/** The clients, in their own process so their work does not slow the server's event loop. */
async function clientsChild(a: ChildArgs): Promise<void> {
  const rand = mulberry32(a.seed);
  const received: [string, number][] = [];
  let next = 0;
  let reconnects = 0;
  let cancelsSent = 0;
  const open = (clientId: string): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = io(a.url, { auth: { token: a.token, client_id: clientId }, transports: ['websocket'], reconnection: false, forceNew: true });
      s.on('progress', (e: { job_id: string; step: number }) => received.push([`${e.job_id}:progress:${e.step}`, nowMs()]));
      s.on('job:status', (e: { job_id: string; status: string }) => received.push([`${e.job_id}:status:${e.status}`, nowMs()]));
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  const finished = (s: Socket, jobId: string): Promise<void> =>
    new Promise((resolve) => {
      const on = (e: { job_id: string; status: string }): void => {
        if (e.job_id === jobId && ['completed', 'failed', 'cancelled'].includes(e.status)) {
          s.off('job:status', on);
          resolve();
        }
      };
      s.on('job:status', on);
    });
  const worker = async (c: number): Promise<void> => {
    const clientId = `soak-${c}`;
    let s = await open(clientId);
    while (next < a.jobs) {
      next++;
      const ack = (await s.timeout(60_000).emitWithAck('generate', { prompt: `soak ${c} ${next}`, steps: a.steps, width: a.size, height: a.size, seed: Math.floor(rand() * 1e9) })) as { ok: boolean; job_id?: string };
      if (!ack.ok || !ack.job_id) continue;
      const jobId = ack.job_id;
      let done = finished(s, jobId);
      const r = rand();
      if (r < a.cancel) {
        await new Promise((res) => setTimeout(res, rand() * 200));
        cancelsSent++;
        await s.timeout(60_000).emitWithAck('cancel', { job_id: jobId }).catch(() => undefined);
      } else if (r < a.cancel + a.reconnect) {
        await new Promise((res) => setTimeout(res, rand() * 200));
        s.close();
        reconnects++;
        s = await open(clientId);
        // The status may have gone by while away: ask, as the PWA does after a reconnect.
        const job = (await s.timeout(60_000).emitWithAck('get_job', { job_id: jobId })) as { job?: { status: string } };
        if (job.job && ['completed', 'failed', 'cancelled'].includes(job.job.status)) continue;
        done = finished(s, jobId);
      }
      await done;
    }
    s.close();
  };
  await Promise.all(Array.from({ length: a.clients }, (_, c) => worker(c)));
  process.send?.({ type: 'done', received, reconnects, cancelsSent });
}

async function main(): Promise<number> {
  const childAt = process.argv.indexOf('--soak-child');
  if (childAt >= 0) {
    await clientsChild(JSON.parse(process.argv[childAt + 1]!) as ChildArgs);
    return 0;
  }
  const v = parseFlags(
    {
      jobs: { type: 'string', default: '1000' },
      clients: { type: 'string', default: '50' },
      steps: { type: 'string', default: '2' },
      size: { type: 'string', default: '64' },
      cancel: { type: 'string', default: '0.1' },
      reconnect: { type: 'string', default: '0.1' },
      seed: { type: 'string', default: '1' },
      fake: { type: 'boolean', default: false },
    },
    HELP,
  );
  if (!v) return 0;
  const jobs = Number(v.jobs);
  const clients = Number(v.clients);
  const dir = mkdtempSync(join(tmpdir(), 'easel-soak-'));
  try {
    const modelsDir = join(dir, 'models');
    if (!v.fake) {
      const tok = join(modelsDir, 'tokenizers', 'clip-vit-large-patch14');
      mkdirSync(tok, { recursive: true });
      for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(tok, f));
      mkdirSync(join(modelsDir, 'checkpoints'), { recursive: true });
      await writeTinyCheckpoint(join(modelsDir, 'checkpoints', 'tiny.safetensors'), { seed: 11 });
    }
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: dir,
      MODELS_DIR: modelsDir,
      WEB_DIST: join(dir, 'none'),
      LOG_LEVEL: 'silent',
      RATE_LIMIT_POINTS: '1000000',
      CONN_RATE_LIMIT: '1000000',
      MAX_QUEUE: String(clients * 2),
      PREVIEW_EVERY: '1',
      MIN_FREE_BYTES: '0',
    });
    const server = await startServer(config, { workerEntry: v.fake ? FAKE_WORKER : DEFAULT_WORKER_ENTRY, supervisor: { env: { FAKE_STEP_MS: '20' } } });
    // Server-side send times of the events the clients time.
    const sent = new Map<string, number>();
    const toClient = server.events.toClient.bind(server.events);
    server.events.toClient = ((clientId: string, event: string, ...args: unknown[]) => {
      const e = args[0] as { job_id?: string; step?: number; status?: string };
      if (event === 'progress') sent.set(`${e.job_id}:progress:${e.step}`, nowMs());
      else if (event === 'job:status') sent.set(`${e.job_id}:status:${e.status}`, nowMs());
      (toClient as (...x: unknown[]) => void)(clientId, event, ...args);
    }) as typeof server.events.toClient;

    const rssStart = { server: process.memoryUsage().rss, worker: rssOf(server.supervisor.workerPid) };
    const started = nowMs();
    const args: ChildArgs = { url: server.url, token: server.token, jobs, clients, steps: Number(v.steps), size: Number(v.size), cancel: Number(v.cancel), reconnect: Number(v.reconnect), seed: Number(v.seed) };
    const child = fork(fileURLToPath(import.meta.url), ['--soak-child', JSON.stringify(args)], { execArgv: ['--import', 'tsx'] });
    const result = await new Promise<{ received: [string, number][]; reconnects: number; cancelsSent: number }>((resolve, reject) => {
      child.on('message', (m: { type?: string }) => (m.type === 'done' ? resolve(m as never) : undefined));
      child.once('exit', (code) => reject(new Error(`client process exited (${String(code)})`)));
    });
    await server.queue.whenIdle();
    const seconds = (nowMs() - started) / 1000;
    const rssEnd = { server: process.memoryUsage().rss, worker: rssOf(server.supervisor.workerPid) };

    const counts: Record<string, number> = { completed: 0, failed: 0, cancelled: 0 };
    const failures: Record<string, number> = {};
    let images = 0;
    for (let c = 0; c < clients; c++) {
      for (const j of server.queue.recentFor(`soak-${c}`, 1_000_000)) {
        counts[j.status] = (counts[j.status] ?? 0) + 1;
        if (j.status === 'completed') images += j.imageIds.length;
        if (j.error) failures[j.error.code] = (failures[j.error.code] ?? 0) + 1;
      }
    }
    const lat = result.received.flatMap(([k, at]) => (sent.has(k) ? [at - sent.get(k)!] : [])).sort((x, y) => x - y);
    const gallery = server.gallery.count();
    await server.close();

    const rows = [
      ['engine', v.fake ? 'test double (--fake)' : `tiny SD1 checkpoint, ${v.steps} steps, ${v.size}x${v.size}`],
      ['jobs / clients', `${jobs} / ${clients} (${result.cancelsSent} cancels sent, ${result.reconnects} reconnects mid-job)`],
      ['completed / failed / cancelled', `${counts.completed} / ${counts.failed} / ${counts.cancelled}${Object.keys(failures).length ? ` (failed: ${Object.entries(failures).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`],
      ['gallery images vs completed jobs', `${gallery} vs ${images} ${gallery === images ? '(equal)' : '(MISMATCH)'}`],
      ['server RSS start → end', `${mib(rssStart.server)} → ${mib(rssEnd.server)}`],
      ['worker RSS start → end', `${mib(rssStart.worker)} → ${mib(rssEnd.worker)}`],
      ['event latency p50 / p99', `${percentile(lat, 50).toFixed(1)} ms / ${percentile(lat, 99).toFixed(1)} ms (${lat.length} progress + job:status events)`],
      ['wall time', `${seconds.toFixed(0)} s (${(jobs / seconds).toFixed(1)} jobs/s)`],
    ];
    const w = Math.max(...rows.map((r) => r[0]!.length));
    console.log(`| ${'measure'.padEnd(w)} | value |\n| ${'-'.repeat(w)} | --- |`);
    for (const [k, val] of rows) console.log(`| ${k!.padEnd(w)} | ${val} |`);
    return gallery === images ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);

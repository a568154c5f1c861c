// Shared test plumbing for the server integration tests: a real server on a free loopback port
// with a temp data dir and the fake worker, real socket.io-client connections, ack calls with a
// timeout, and waiting for events.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connectClient, type Socket } from 'socket.io-client';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { loadConfig, type Config } from '../config.js';
import { startServer, type RunningServer, type StartOptions } from '../server.js';
import type { CompleteEvent, ErrorEvent, PreviewEvent, ProgressEvent } from '../protocol/events.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FAKE_WORKER = resolve(here, 'fake-worker.ts');

export interface TestServer extends RunningServer {
  dataDir: string;
  config: Config;
  /** Closes the server and removes the temp dir. */
  dispose(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'easel-test-'));
}

/**
 * Starts a server for a test. `env` takes the same names as the real environment.
 *
 * @example const s = await startTestServer({ RATE_LIMIT_POINTS: '5' })
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: StartOptions & { dataDir?: string; fakeEnv?: Record<string, string> } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    MODELS_DIR: join(dataDir, 'models'),
    WEB_DIST: join(dataDir, 'no-web-dist'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config, {
    workerEntry: opts.workerEntry ?? FAKE_WORKER,
    ...(opts.logger ? { logger: opts.logger } : {}),
    supervisor: { restartDelaysMs: [50], cancelGraceMs: 5000, ...opts.supervisor, env: { FAKE_STEP_MS: '20', ...opts.fakeEnv } },
    ...(opts.disk ? { disk: opts.disk } : {}),
  });
  return {
    ...server,
    dataDir,
    config,
    dispose: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type AnySocket = Socket;

/** Connects and resolves once connected; rejects with the server's error data on refusal. */
export function connect(url: string, auth: Record<string, unknown>, extra: { origin?: string } = {}): Promise<AnySocket> {
  const socket = connectClient(url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
    ...(extra.origin ? { extraHeaders: { origin: extra.origin } } : {}),
  });
  return new Promise((resolveConn, reject) => {
    socket.once('connect', () => resolveConn(socket));
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(err);
    });
  });
}

export interface AckResult {
  ok: boolean;
  error?: { code: string; message: string; field?: string; retry_after_s?: number };
  [k: string]: unknown;
}

/** Emits an action and resolves with its ack (rejects after `ms`). */
export function call(socket: AnySocket, event: string, ...args: unknown[]): Promise<AckResult> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<AckResult>;
}

/** Resolves with the first `event` payload matching `pred`. */
export function waitFor<T = Record<string, unknown>>(socket: AnySocket, event: string, pred: (p: T) => boolean = () => true, ms = 15_000): Promise<T> {
  return new Promise((resolveWait, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const on = (p: T): void => {
      if (!pred(p)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolveWait(p);
    };
    socket.on(event, on);
  });
}

/** Collects every payload of `event` until stopped. */
export function collect<T = Record<string, unknown>>(socket: AnySocket, event: string): T[] {
  const out: T[] = [];
  socket.on(event, (p: T) => out.push(p));
  return out;
}

/**
 * The step updates among a job's progress events: phase changes (loading_model, decoding, saving,
 * ...) and the re-sent phase after a mid-job session load repeat the current step, so keep the
 * sampling/postprocessing events that move to a new step.
 */
export function stepUpdates<T extends { step: number; total: number; phase?: string }>(events: readonly T[]): T[] {
  const out: T[] = [];
  for (const e of events) {
    if (e.total <= 0 || (e.phase !== undefined && e.phase !== 'sampling' && e.phase !== 'postprocessing')) continue;
    const last = out.at(-1);
    if (last && last.step === e.step && last.total === e.total) continue;
    out.push(e);
  }
  return out;
}

/** A job's events as a client sees them, from its ack to its `complete`. */
export interface JobRun {
  done: CompleteEvent;
  progress: ProgressEvent[];
  previews: PreviewEvent[];
}

/**
 * Submits `action` and waits for the job's `complete`; its `error` event fails the wait with the code.
 *
 * @example const { done, progress } = await runJobToEnd(socket, 'generate', { prompt: 'a cat' })
 */
export async function runJobToEnd(socket: AnySocket, action: string, params: Record<string, unknown>, ms = 120_000): Promise<JobRun> {
  const progress = collect<ProgressEvent>(socket, 'progress');
  const previews = collect<PreviewEvent>(socket, 'preview');
  const ack = await call(socket, action, params);
  if (ack.ok !== true) throw new Error(`${action} refused: ${JSON.stringify(ack)}`);
  const jobId = ack.job_id as string;
  const failed = waitFor<ErrorEvent>(socket, 'error', (e) => e.job_id === jobId, ms).then((e) => {
    throw new Error(`job failed: ${e.code}: ${e.message}`);
  });
  const done = await Promise.race([waitFor<CompleteEvent>(socket, 'complete', (e) => e.job_id === jobId, ms), failed]);
  return { done, progress: progress.filter((p) => p.job_id === jobId), previews: previews.filter((p) => p.job_id === jobId) };
}

/** `<modelsDir>/tokenizers/clip-vit-large-patch14/` with the sd1-tiny fixture's CLIP tokenizer (what single-file checkpoints need). */
export function installTinyTokenizer(modelsDir: string): void {
  const tok = join(modelsDir, 'tokenizers', 'clip-vit-large-patch14');
  mkdirSync(tok, { recursive: true });
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(tok, f));
}

// Runs the engine in a child process and keeps it alive: forks the worker entry, relays progress,
// previews and results of the one running job, fails that job with `engine_crashed` when the
// worker dies, and restarts the worker with backoff so the queue goes on.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ERROR_CODES, EaselError, type ErrorCode } from '../protocol/errors.js';
import type { ParentMessage, PhaseUpdate, PreprocessOutput, RunOutput, WorkerCapabilities, WorkerJobKind, WorkerMessage } from '../../native/worker-protocol.js';
import { withHugePages } from '../../native/runtime/huge-pages.js';

export interface SupervisorOptions {
  /** Worker entry (.ts, run through tsx); tests pass a double from server/test/. */
  entry: string;
  logger: Logger;
  /** Extra environment for the worker. */
  env?: Record<string, string>;
  /** Delay before each restart after a crash; the last value repeats. */
  restartDelaysMs?: readonly number[];
  /** After a cancel, how long the worker gets to stop before it is killed. */
  cancelGraceMs?: number;
  /** How long `run` waits for a (re)starting worker. */
  readyTimeoutMs?: number;
}

export interface RunCallbacks {
  signal: AbortSignal;
  previewEvery: number;
  /** `phase` when the worker reported one (see PhaseUpdate). */
  onProgress(step: number, total: number, phase?: PhaseUpdate): void;
  onPreview(step: number, jpeg: Uint8Array): void;
}

interface Current {
  jobId: string;
  cb: RunCallbacks;
  resolve(out: RunOutput): void;
  reject(err: EaselError): void;
  cancelRequested: boolean;
  graceTimer?: NodeJS.Timeout;
}

const DEFAULT_RESTART_DELAYS = [100, 500, 2000, 5000, 15000];

/** Prompt expansion callbacks: partial text of sequence `index`; stops when `signal` aborts. */
export interface EnhanceCallbacks {
  signal: AbortSignal;
  onPartial(index: number, text: string): void;
}

/** How a pending side request (enhance, preprocess) is settled by the worker's answer. */
interface Settled<T> {
  resolve(out: T): void;
  reject(err: EaselError): void;
}

interface PendingEnhance extends Settled<{ prompts: string[]; info: Record<string, unknown> }> {
  cb: EnhanceCallbacks;
}

/** tsx's loader by absolute URL, so the worker starts whatever the current directory is. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function toErrorCode(code: string): ErrorCode {
  // Engine codes the wire does not list (tokenizer_not_found, bad_input, ...) keep their message.
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'engine_error';
}

export class EngineSupervisor {
  private child: ChildProcess | undefined;
  private caps: WorkerCapabilities | undefined;
  private device: string | undefined;
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private current: Current | undefined;
  private crashes = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Prompt expansions in flight; they run beside the current job (in the worker's LM thread). */
  private readonly enhancing = new Map<string, PendingEnhance>();
  /** ControlNet preprocessor previews in flight (they run between the steps of the current job). */
  private readonly preprocessing = new Map<string, Settled<PreprocessOutput>>();
  private preprocessSeq = 0;
  /** Counts worker starts; tests and logs use it to see a restart happened. */
  starts = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  /** Starts the worker and waits for its `ready` message. */
  async start(): Promise<void> {
    this.spawn();
    await this.waitReady(this.opts.readyTimeoutMs ?? 60_000);
  }

  /** What the running worker said it can do; undefined before the first `ready`. */
  get capabilities(): WorkerCapabilities | undefined {
    return this.caps;
  }

  get engineDevice(): string | undefined {
    return this.device;
  }

  /** The worker's process id (the soak benchmark reads its memory). */
  get workerPid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Runs one job on the worker. Rejects with an EaselError: `cancelled` after an abort,
   * `engine_crashed` if the worker died, or the worker's own code (`engine_unavailable`, ...).
   */
  async run(jobId: string, kind: WorkerJobKind, params: Record<string, unknown>, cb: RunCallbacks): Promise<RunOutput> {
    if (this.stopping) throw new EaselError('engine_unavailable', 'the server is shutting down');
    if (this.current) throw new EaselError('internal', 'the engine is already running a job');
    cb.signal.throwIfAborted();
    await this.waitReady(this.opts.readyTimeoutMs ?? 60_000);
    if (cb.signal.aborted) throw new EaselError('cancelled', 'cancelled');
    return new Promise<RunOutput>((resolve, reject) => {
      const cur: Current = { jobId, cb, resolve, reject, cancelRequested: false };
      this.current = cur;
      const onAbort = (): void => {
        cur.cancelRequested = true;
        this.send({ type: 'cancel', job_id: jobId });
        // A worker stuck in native code cannot see the signal: kill it so the lane is freed.
        cur.graceTimer = setTimeout(() => {
          if (this.current === cur) {
            this.opts.logger.warn({ jobId }, 'engine did not stop after cancel; killing it');
            this.child?.kill('SIGKILL');
          }
        }, this.opts.cancelGraceMs ?? 10_000);
      };
      cb.signal.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        cb.signal.removeEventListener('abort', onAbort);
        if (cur.graceTimer) clearTimeout(cur.graceTimer);
        if (this.current === cur) this.current = undefined;
      };
      cur.resolve = (out) => {
        settle();
        resolve(out);
      };
      cur.reject = (err) => {
        settle();
        reject(err);
      };
      this.send({ type: 'run', job_id: jobId, kind, params, preview_every: cb.previewEvery });
    });
  }

  /**
   * Expands a prompt on the worker (never queued behind a generation: the worker runs it in its LM
   * thread). Rejects like `run`: `cancelled`, `engine_crashed`, or the worker's code.
   */
  async enhance(requestId: string, params: Record<string, unknown>, cb: EnhanceCallbacks): Promise<{ prompts: string[]; info: Record<string, unknown> }> {
    if (this.stopping) throw new EaselError('engine_unavailable', 'the server is shutting down');
    // Request ids are chosen by clients: a prefix keeps them apart from job ids in the worker.
    const wireId = `enhance:${requestId}`;
    if (this.enhancing.has(wireId)) throw new EaselError('conflict', `prompt expansion ${requestId} is already running`);
    cb.signal.throwIfAborted();
    await this.waitReady(this.opts.readyTimeoutMs ?? 60_000);
    if (cb.signal.aborted) throw new EaselError('cancelled', 'cancelled');
    return this.sideRequest(this.enhancing, wireId, cb.signal, (settled) => ({ cb, ...settled }), { type: 'enhance', job_id: wireId, params });
  }

  /**
   * Runs a ControlNet preprocessor on the worker (the preview of `preprocess` and /controlnet/detect).
   * Rejects like `run`: `cancelled`, `engine_crashed`, or the worker's code.
   */
  async preprocess(params: Record<string, unknown>, signal?: AbortSignal): Promise<PreprocessOutput> {
    if (this.stopping) throw new EaselError('engine_unavailable', 'the server is shutting down');
    signal?.throwIfAborted();
    await this.waitReady(this.opts.readyTimeoutMs ?? 60_000);
    const wireId = `preprocess:${++this.preprocessSeq}`;
    return this.sideRequest(this.preprocessing, wireId, signal, (settled) => settled, { type: 'preprocess', job_id: wireId, params });
  }

  /**
   * A request beside the job queue (enhance, preprocess): registered under `wireId` in `pending`
   * until the worker answers or the process dies; an abort asks the worker to cancel it.
   */
  private sideRequest<T, P extends Settled<T>>(
    pending: Map<string, P>,
    wireId: string,
    signal: AbortSignal | undefined,
    entry: (settled: Settled<T>) => P,
    message: ParentMessage,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.send({ type: 'cancel', job_id: wireId });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort);
        pending.delete(wireId);
      };
      pending.set(
        wireId,
        entry({
          resolve: (out) => {
            settle();
            resolve(out);
          },
          reject: (err) => {
            settle();
            reject(err);
          },
        }),
      );
      this.send(message);
    });
  }

  /** Asks the worker to exit, kills it if it does not, and stops restarting it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) this.send({ type: 'shutdown' });
      else child.kill('SIGTERM');
    });
  }

  /** Kills the worker as a crash would (tests, and the cancel grace path). */
  killWorker(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  private send(m: ParentMessage): void {
    if (this.child?.connected) this.child.send(m);
  }

  private waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new EaselError('engine_unavailable', `the engine process did not start within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  private spawn(): void {
    this.starts++;
    const child = fork(this.opts.entry, [], {
      execArgv: ['--import', TSX_LOADER],
      serialization: 'advanced',
      env: withHugePages({ ...process.env, ...this.opts.env, EASEL_WORKER: '1' }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    const log = this.opts.logger.child({ worker: child.pid });
    child.stdout?.on('data', (d: Buffer) => log.info(d.toString().trimEnd()));
    child.stderr?.on('data', (d: Buffer) => log.warn(d.toString().trimEnd()));
    child.on('message', (raw: unknown) => this.onMessage(raw as WorkerMessage));
    child.on('error', (err) => log.error({ err }, 'engine process error'));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'ready') {
      this.caps = m.capabilities;
      this.device = m.device;
      this.ready = true;
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const pre = this.preprocessing.get(m.job_id);
    if (pre) {
      if (m.type === 'preprocess_result') pre.resolve(m.image);
      else if (m.type === 'error') pre.reject(new EaselError(toErrorCode(m.code), m.message));
      return;
    }
    const enhance = this.enhancing.get(m.job_id);
    if (enhance) {
      if (m.type === 'enhance_partial') enhance.cb.onPartial(m.index, m.text);
      else if (m.type === 'enhance_result') enhance.resolve({ prompts: m.prompts, info: m.info });
      else if (m.type === 'error') enhance.reject(new EaselError(toErrorCode(m.code), m.message));
      return;
    }
    const cur = this.current;
    if (!cur || cur.jobId !== m.job_id) return;
    switch (m.type) {
      case 'progress':
        cur.cb.onProgress(m.step, m.total, m.phase ? { phase: m.phase, ...(m.fraction !== undefined ? { fraction: m.fraction } : {}), ...(m.detail ? { detail: m.detail } : {}) } : undefined);
        break;
      case 'preview':
        cur.cb.onPreview(m.step, m.jpeg);
        break;
      case 'result':
        this.crashes = 0;
        cur.resolve({ images: m.images, info: m.info });
        break;
      case 'error':
        cur.reject(new EaselError(toErrorCode(m.code), m.message));
        break;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = false;
    for (const p of [...this.preprocessing.values()]) p.reject(new EaselError('engine_crashed', 'the engine process stopped during ControlNet preprocessing; it is being restarted'));
    for (const e of [...this.enhancing.values()]) e.reject(new EaselError('engine_crashed', 'the engine process stopped during prompt expansion; it is being restarted'));
    const cur = this.current;
    if (cur) {
      if (cur.cancelRequested) cur.reject(new EaselError('cancelled', 'cancelled (the engine was stopped)'));
      else {
        const how = signal ? `signal ${signal}` : `exit code ${String(code)}`;
        cur.reject(new EaselError('engine_crashed', `the engine process died while running this job (${how}); it is being restarted`));
      }
    }
    if (this.stopping) return;
    const delays = this.opts.restartDelaysMs ?? DEFAULT_RESTART_DELAYS;
    const delay = delays[Math.min(this.crashes, delays.length - 1)] ?? 1000;
    this.crashes++;
    this.opts.logger.warn({ code, signal, restartInMs: delay }, 'engine process exited; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.spawn();
    }, delay);
  }
}

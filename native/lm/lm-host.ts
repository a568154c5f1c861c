// The engine worker's side of prompt expansion: starts the LM worker thread on the first request,
// resolves model names under $MODELS_DIR/prompt-expanders/, forwards partial text, cancels through a
// shared flag, and stops the thread (freeing the model) after an idle period or when the machine is
// short of memory before a load. SD generation keeps the worker's main thread; the LM never runs there.
//
//   const host = new LmHost({ modelsDir: 'models', device: 'cpu' });
//   const r = await host.expand({ prompt: 'a cat', n: 2 }, { onPartial: (i, t) => console.log(i, t) });
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { freemem } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Device } from '../runtime/ort-backend.js';
import { LmError } from './lm-error.js';
import type { ExpandSummary, HostToThread, ThreadToHost } from './lm-thread-protocol.js';
import type { ExpandRequest } from './prompt-expander.js';
import { WEIGHT_FILES } from './gpt2-weights.js';

export const PROMPT_EXPANDERS_DIR = 'prompt-expanders';
/** dynamicprompts' default model, as the folder `download_model hf:Gustavosta/MagicPrompt-Stable-Diffusion` makes. */
export const DEFAULT_EXPANDER = 'MagicPrompt-Stable-Diffusion';
const DEFAULT_IDLE_MS = 5 * 60_000;
/** Loading copies the weights once into ONNX Runtime: ask for twice the file plus headroom. */
const LOAD_MEMORY_FACTOR = 2;
const MAX_PENDING = 16;

/** The wire payload of `enhance_prompt` (snake_case, as the socket action takes it). */
export interface EnhanceParams {
  prompt: string;
  model?: string;
  n?: number;
  seed?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  no_repeat_ngram_size?: number;
  max_new_tokens?: number;
  max_length?: number;
  min_length?: number;
  greedy?: boolean;
  blocklist?: string;
}

export interface EnhanceHooks {
  signal?: AbortSignal;
  onPartial?(index: number, text: string): void;
}

export interface LmHostOptions {
  modelsDir: string;
  device: Device;
  intraOpThreads?: number;
  /** Stop the thread (and free the model) after this long without requests. Default 5 min. */
  idleMs?: number;
  /** Model used when a request names none. Default MagicPrompt-Stable-Diffusion, else the first folder. */
  defaultModel?: string;
  /** Free memory needed to load (default: twice the weight file); tests lower or raise it. */
  freeMemory?: () => number;
}

interface Pending {
  resolve(r: ExpandSummary): void;
  reject(e: LmError): void;
  onPartial?: (index: number, text: string) => void;
}

// A worker thread does not inherit the tsx hooks of its parent; this bootstrap registers them in
// the thread, then imports the TypeScript entry.
// (tsx's CommonJS build of that API fails inside threads, so its ESM twin beside it is imported.)
const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
const THREAD_ENTRY = new URL('./lm-thread.ts', import.meta.url).href;
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then((api) => { api.register(); return import(${JSON.stringify(THREAD_ENTRY)}); });`;

/** Maps `enhance_prompt`'s snake_case fields onto the expander's request. */
export function toExpandRequest(p: EnhanceParams): ExpandRequest {
  const r: ExpandRequest = { prompt: p.prompt };
  const copy = <K extends keyof ExpandRequest>(k: K, v: ExpandRequest[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  copy('n', p.n);
  copy('seed', p.seed);
  copy('temperature', p.temperature);
  copy('topK', p.top_k);
  copy('topP', p.top_p);
  copy('repetitionPenalty', p.repetition_penalty);
  copy('noRepeatNgramSize', p.no_repeat_ngram_size);
  copy('maxNewTokens', p.max_new_tokens);
  copy('maxLength', p.max_length);
  copy('minLength', p.min_length);
  copy('greedy', p.greedy);
  copy('blocklist', p.blocklist);
  return r;
}

/** Model folders under `<modelsDir>/prompt-expanders/` (those with a config.json), sorted. */
export function listExpanders(modelsDir: string): string[] {
  const root = join(modelsDir, PROMPT_EXPANDERS_DIR);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && existsSync(join(root, d.name, 'config.json')))
    .map((d) => d.name)
    .sort();
}

/**
 * The folder of a named expander (default when `name` is undefined), confined to prompt-expanders/.
 * @throws LmError `lm_model_not_found`
 */
export function resolveExpanderDir(modelsDir: string, name?: string, defaultName = DEFAULT_EXPANDER): string {
  const root = resolve(modelsDir, PROMPT_EXPANDERS_DIR);
  const available = listExpanders(modelsDir);
  const chosen = name ?? (available.includes(defaultName) ? defaultName : available[0]);
  if (chosen === undefined) {
    throw new LmError(
      'lm_model_not_found',
      `no prompt expander in ${root}; download one with download_model { source: "hf:Gustavosta/MagicPrompt-Stable-Diffusion", type: "prompt_expander" }`,
    );
  }
  const dir = resolve(root, chosen);
  const rel = relative(root, dir);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) throw new LmError('lm_model_not_found', `model "${chosen}" is not a folder inside ${root}`);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new LmError('lm_model_not_found', `no prompt expander "${chosen}" in ${root} (have: ${available.join(', ') || 'none'})`);
  }
  return dir;
}

export class LmHost {
  private worker: Worker | undefined;
  private loadedDir: string | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Thread starts so far (tests see the idle unload happen). */
  starts = 0;

  constructor(private readonly opts: LmHostOptions) {}

  /** Whether a model thread is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  async expand(params: EnhanceParams, hooks: EnhanceHooks = {}): Promise<ExpandSummary> {
    hooks.signal?.throwIfAborted();
    if (this.pending.size >= MAX_PENDING) throw new LmError('lm_unavailable', `${MAX_PENDING} prompt expansions are already waiting; try again shortly`);
    const dir = resolveExpanderDir(this.opts.modelsDir, params.model, this.opts.defaultModel);
    if (dir !== this.loadedDir) this.checkMemory(dir);
    const worker = this.ensureWorker();
    this.loadedDir = dir;
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    this.clearIdle();
    return new Promise<ExpandSummary>((resolvePromise, reject) => {
      const onAbort = (): void => {
        Atomics.store(flag, 0, 1);
      };
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        hooks.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (this.pending.size === 0) this.armIdle();
      };
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolvePromise(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        ...(hooks.onPartial ? { onPartial: hooks.onPartial } : {}),
      });
      const msg: HostToThread = { type: 'expand', id, modelDir: dir, request: toExpandRequest(params), cancel };
      worker.postMessage(msg);
    });
  }

  /** Stops the thread now; the next request starts it again. */
  async close(): Promise<void> {
    this.clearIdle();
    const w = this.worker;
    this.worker = undefined;
    this.loadedDir = undefined;
    for (const p of [...this.pending.values()]) p.reject(new LmError('lm_cancelled', 'the prompt-expansion thread was stopped'));
    await w?.terminate();
  }

  private checkMemory(dir: string): void {
    const file = WEIGHT_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!file) return; // the thread reports the missing file with its own message
    const need = statSync(file).size * LOAD_MEMORY_FACTOR;
    const free = (this.opts.freeMemory ?? freemem)();
    if (free < need) {
      throw new LmError('lm_unavailable', `not enough free memory to load ${dir}: need about ${Math.ceil(need / 2 ** 20)} MiB, ${Math.floor(free / 2 ** 20)} MiB free`);
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    this.starts++;
    const w = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { device: this.opts.device, ...(this.opts.intraOpThreads ? { intraOpThreads: this.opts.intraOpThreads } : {}) },
    });
    w.unref();
    w.on('message', (m: ThreadToHost) => this.onMessage(m));
    const fail = (reason: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.loadedDir = undefined;
      for (const p of [...this.pending.values()]) p.reject(new LmError('lm_unavailable', `the prompt-expansion thread stopped (${reason}); it restarts on the next request`));
    };
    w.on('error', (err) => fail(err.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    return w;
  }

  private onMessage(m: ThreadToHost): void {
    if (m.type === 'loaded') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'partial') p.onPartial?.(m.index, m.text);
    else if (m.type === 'result') p.resolve(m.result);
    else p.reject(new LmError(m.code as LmError['code'], m.message));
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => void this.close(), this.opts.idleMs ?? DEFAULT_IDLE_MS);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

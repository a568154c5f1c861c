// The LM worker thread: owns the PromptExpander (one model at a time, its ONNX session with its own
// thread pool) so that decoding never holds the engine worker's event loop, where SD jobs, cancels
// and IPC are served. Runs one request at a time, in arrival order.
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createEngineRuntime, type Device } from '../runtime/ort-backend.js';
import { LmError } from './lm-error.js';
import type { ExpandJob, HostToThread, ThreadToHost } from './lm-thread-protocol.js';
import { PromptExpander } from './prompt-expander.js';

interface ThreadOptions {
  device: Device;
  intraOpThreads?: number;
}

const port = parentPort;
if (!port) throw new Error('lm-thread.ts runs as a worker thread');
const opts = (workerData ?? { device: 'cpu' }) as ThreadOptions;
const post = (m: ThreadToHost): void => port.postMessage(m);

let loaded: { key: string; expander: PromptExpander } | undefined;
let chain: Promise<void> = Promise.resolve();

async function expanderFor(job: ExpandJob): Promise<PromptExpander> {
  const key = `${job.modelDir}|${job.tokenizerDir ?? ''}`;
  if (loaded?.key === key) return loaded.expander;
  if (loaded) {
    await loaded.expander.dispose();
    loaded = undefined;
  }
  const t = performance.now();
  const runtime = await createEngineRuntime({ device: opts.device, ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}) });
  const expander = await PromptExpander.load(job.modelDir, { runtime, ...(job.tokenizerDir ? { tokenizerDir: job.tokenizerDir } : {}) });
  loaded = { key, expander };
  post({ type: 'loaded', modelDir: job.modelDir, ms: Math.round(performance.now() - t) });
  return expander;
}

async function run(job: ExpandJob): Promise<void> {
  const flag = new Int32Array(job.cancel);
  const controller = new AbortController();
  const poll = (): void => {
    if (Atomics.load(flag, 0) === 1) controller.abort();
  };
  try {
    poll();
    if (controller.signal.aborted) throw new LmError('lm_cancelled', 'cancelled');
    const ex = await expanderFor(job);
    const r = await ex.expand(job.request, {
      signal: controller.signal,
      onPartial: (index, text) => {
        poll();
        post({ type: 'partial', id: job.id, index, text });
      },
    });
    post({ type: 'result', id: job.id, result: { prompts: r.prompts, seeds: r.sequences.map((s) => s.seed), model: basename(job.modelDir), settings: { ...r.settings } } });
  } catch (err) {
    const code = err instanceof LmError ? err.code : ((err as { code?: unknown }).code as string | undefined) ?? 'engine_error';
    post({ type: 'error', id: job.id, code: typeof code === 'string' ? code : 'engine_error', message: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (m: HostToThread) => {
  if (m.type === 'expand') chain = chain.then(() => run(m));
  else if (m.type === 'unload') {
    chain = chain.then(async () => {
      await loaded?.expander.dispose();
      loaded = undefined;
    });
  }
});

// The IPC protocol between the server's engine supervisor and the engine child process, plus the
// small loop every worker entry (the real one and the test doubles) runs. Messages go over
// `process.send` with `serialization: 'advanced'`, so Uint8Array crosses without base64.

export type WorkerJobKind = 'generate' | 'upscale' | 'adetailer';

export interface WorkerCapabilities {
  generate: boolean;
  upscale: boolean;
  adetailer: boolean;
  /** LoRA / LyCORIS (`loras`, `<lora:…>`), textual-inversion embeddings, VAE override. */
  lora?: boolean;
  embeddings?: boolean;
  vae?: boolean;
  /** Hires fix (`hires` in GenerationParams, A1111 `enable_hr`). */
  hires?: boolean;
}

export type ParentMessage =
  | { type: 'run'; job_id: string; kind: WorkerJobKind; params: Record<string, unknown>; preview_every: number }
  | { type: 'cancel'; job_id: string }
  | { type: 'shutdown' };

export interface WorkerImage {
  png: Uint8Array;
  width: number;
  height: number;
  seed: number;
}

export type WorkerMessage =
  | { type: 'ready'; capabilities: WorkerCapabilities; device: string }
  | { type: 'progress'; job_id: string; step: number; total: number }
  | { type: 'preview'; job_id: string; step: number; jpeg: Uint8Array }
  | { type: 'result'; job_id: string; images: WorkerImage[]; info: Record<string, unknown> }
  | { type: 'error'; job_id: string; code: string; message: string };

export interface RunHooks {
  signal: AbortSignal;
  previewEvery: number;
  onProgress(step: number, total: number): void;
  onPreview(step: number, jpeg: Uint8Array): void;
}

export interface RunOutput {
  images: WorkerImage[];
  /** Effective parameters (resolved seed, sampler ids, model hash, ...) for the infotext. */
  info: Record<string, unknown>;
}

/** An error a worker reports with a stable code (`engine_unavailable`, `cancelled`, ...). */
export class WorkerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'WorkerError';
    this.code = code;
  }
}

export interface WorkerImpl {
  capabilities: WorkerCapabilities;
  device: string;
  run(kind: WorkerJobKind, params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput>;
}

/**
 * Runs a worker: announces `ready`, runs one job at a time, turns an aborted signal into a
 * `cancelled` error. Exits when the parent goes away so no orphan keeps the GPU.
 *
 * @example serveWorker({ capabilities, device: 'cpu', run: runGeneration })
 */
export function serveWorker(impl: WorkerImpl): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('serveWorker: not started with an IPC channel (use child_process.fork)');
  const post = (m: WorkerMessage): void => {
    send(m);
  };
  const running = new Map<string, AbortController>();

  process.on('message', (raw: unknown) => {
    const m = raw as ParentMessage;
    if (m.type === 'cancel') {
      running.get(m.job_id)?.abort();
      return;
    }
    if (m.type === 'shutdown') {
      for (const c of running.values()) c.abort();
      process.disconnect?.();
      return;
    }
    if (m.type !== 'run') return;
    const controller = new AbortController();
    running.set(m.job_id, controller);
    const hooks: RunHooks = {
      signal: controller.signal,
      previewEvery: m.preview_every,
      onProgress: (step, total) => post({ type: 'progress', job_id: m.job_id, step, total }),
      onPreview: (step, jpeg) => post({ type: 'preview', job_id: m.job_id, step, jpeg }),
    };
    impl
      .run(m.kind, m.params, hooks)
      .then(
        (out) => {
          if (controller.signal.aborted) post({ type: 'error', job_id: m.job_id, code: 'cancelled', message: 'cancelled' });
          else post({ type: 'result', job_id: m.job_id, images: out.images, info: out.info });
        },
        (err: unknown) => {
          const code = controller.signal.aborted ? 'cancelled' : err instanceof WorkerError ? err.code : 'internal';
          const message = controller.signal.aborted ? 'cancelled' : err instanceof Error ? err.message : String(err);
          post({ type: 'error', job_id: m.job_id, code, message });
        },
      )
      .finally(() => running.delete(m.job_id));
  });
  process.on('disconnect', () => process.exit(0));
  post({ type: 'ready', capabilities: impl.capabilities, device: impl.device });
}

// The IPC protocol between the server's engine supervisor and the engine child process, plus the
// small loop every worker entry (the real one and the test doubles) runs. Messages go over
// `process.send` with `serialization: 'advanced'`, so Uint8Array crosses without base64.
import { watchParent } from './parent-watchdog.js';

export type WorkerJobKind = 'generate' | 'upscale' | 'adetailer';

export interface WorkerCapabilities {
  generate: boolean;
  upscale: boolean;
  adetailer: boolean;
  /** LoRA / LyCORIS (`loras`, `<lora:…>`), textual-inversion embeddings, VAE override. */
  lora?: boolean;
  embeddings?: boolean;
  vae?: boolean;
  /** Features that land one by one; the server offers a feature (and its starter models) only when true. */
  hires?: boolean;
  enhance_prompt?: boolean;
  sdxl?: boolean;
  controlnet?: boolean;
  /** TAESD / TAESDXL live previews (native/taesd) when their file is installed in $MODELS_DIR/vae-approx. */
  taesd?: boolean;
}

/**
 * What a job is doing (the `phase` of progress messages and events), in the order a job passes
 * through them. `loading_model` may come back mid-job: sessions are made on first use of a part.
 */
export const JOB_PHASES = ['queued', 'loading_model', 'encoding', 'sampling', 'decoding', 'postprocessing', 'saving'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** A phase change as the worker reports it: `fraction` (0..1) where it can be known, `detail` a short label. */
export interface PhaseUpdate {
  phase: JobPhase;
  fraction?: number;
  detail?: string;
}

export type ParentMessage =
  | { type: 'run'; job_id: string; kind: WorkerJobKind; params: Record<string, unknown>; preview_every: number }
  | { type: 'cancel'; job_id: string }
  | { type: 'enhance'; job_id: string; params: Record<string, unknown> }
  /** A ControlNet preprocessor preview (`params`: image bytes, module, processor_res, threshold_a/b). */
  | { type: 'preprocess'; job_id: string; params: Record<string, unknown> }
  | { type: 'shutdown' };

export interface WorkerImage {
  png: Uint8Array;
  width: number;
  height: number;
  seed: number;
  /** The hires fix's first-pass image (save_first_pass). */
  first_pass?: boolean;
}

export type WorkerMessage =
  | { type: 'ready'; capabilities: WorkerCapabilities; device: string }
  | { type: 'progress'; job_id: string; step: number; total: number; phase?: JobPhase; fraction?: number; detail?: string }
  | { type: 'preview'; job_id: string; step: number; jpeg: Uint8Array }
  | { type: 'result'; job_id: string; images: WorkerImage[]; info: Record<string, unknown> }
  | { type: 'error'; job_id: string; code: string; message: string }
  | { type: 'enhance_partial'; job_id: string; index: number; text: string }
  | { type: 'enhance_result'; job_id: string; prompts: string[]; info: Record<string, unknown> }
  | { type: 'preprocess_result'; job_id: string; image: PreprocessOutput };

/** Prompt expansion hooks: partial text of sequence `index` as it grows; stops when `signal` aborts. */
export interface EnhanceRunHooks {
  signal: AbortSignal;
  onPartial(index: number, text: string): void;
}

export interface EnhanceOutput {
  prompts: string[];
  info: Record<string, unknown>;
}

/** The preprocessed hint of a `preprocess` request, as a PNG. */
export interface PreprocessOutput {
  png: Uint8Array;
  width: number;
  height: number;
  /** The module and slider values it ran with (processor_res / thresholds after the extension's defaults). */
  info: Record<string, unknown>;
}

export interface RunHooks {
  signal: AbortSignal;
  previewEvery: number;
  onProgress(step: number, total: number): void;
  onPreview(step: number, jpeg: Uint8Array): void;
  /** Reports a phase change (optional for pipelines: plain `onProgress` keeps working). */
  onPhase?(phase: JobPhase, info?: { fraction?: number; detail?: string }): void;
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
  /** Prompt expansion, beside (never blocking) a running job; absent when not built in. */
  enhance?(params: Record<string, unknown>, hooks: EnhanceRunHooks): Promise<EnhanceOutput>;
  /** ControlNet preprocessor preview, beside a running job; absent when not built in. */
  preprocess?(params: Record<string, unknown>, signal: AbortSignal): Promise<PreprocessOutput>;
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
    if (m.type === 'enhance') {
      runEnhance(m.job_id, m.params);
      return;
    }
    if (m.type === 'preprocess') {
      runPreprocess(m.job_id, m.params);
      return;
    }
    if (m.type !== 'run') return;
    const controller = new AbortController();
    running.set(m.job_id, controller);
    // The last phase set sticks to later step messages; a pipeline that never sets one sends none.
    let phase: PhaseUpdate | undefined;
    let last = { step: 0, total: 0 };
    const hooks: RunHooks = {
      signal: controller.signal,
      previewEvery: m.preview_every,
      onProgress: (step, total) => {
        last = { step, total };
        post({ type: 'progress', job_id: m.job_id, step, total, ...(phase ? { phase: phase.phase } : {}) });
      },
      onPreview: (step, jpeg) => post({ type: 'preview', job_id: m.job_id, step, jpeg }),
      onPhase: (p, info) => {
        phase = { phase: p, ...info };
        post({ type: 'progress', job_id: m.job_id, ...last, ...phase });
      },
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
  const runEnhance = (id: string, params: Record<string, unknown>): void => {
    const controller = new AbortController();
    running.set(id, controller);
    const enhance = impl.enhance?.bind(impl);
    const work = enhance
      ? enhance(params, { signal: controller.signal, onPartial: (index, text) => post({ type: 'enhance_partial', job_id: id, index, text }) })
      : Promise.reject(new WorkerError('engine_unavailable', 'prompt enhancement is not available in this build'));
    work
      .then(
        (out) => post({ type: 'enhance_result', job_id: id, prompts: out.prompts, info: out.info }),
        (err: unknown) => {
          const code = controller.signal.aborted ? 'cancelled' : err instanceof WorkerError ? err.code : ((err as { code?: unknown }).code as string) || 'internal';
          post({ type: 'error', job_id: id, code: typeof code === 'string' ? code : 'internal', message: err instanceof Error ? err.message : String(err) });
        },
      )
      .finally(() => running.delete(id));
  };
  const runPreprocess = (id: string, params: Record<string, unknown>): void => {
    const controller = new AbortController();
    running.set(id, controller);
    const preprocess = impl.preprocess?.bind(impl);
    const work = preprocess ? preprocess(params, controller.signal) : Promise.reject(new WorkerError('not_implemented', 'ControlNet preprocessing is not available in this build'));
    work
      .then(
        (image) => post({ type: 'preprocess_result', job_id: id, image }),
        (err: unknown) => {
          const code = controller.signal.aborted ? 'cancelled' : err instanceof WorkerError ? err.code : ((err as { code?: unknown }).code as string) || 'internal';
          post({ type: 'error', job_id: id, code: typeof code === 'string' ? code : 'internal', message: err instanceof Error ? err.message : String(err) });
        },
      )
      .finally(() => running.delete(id));
  };
  process.on('disconnect', () => process.exit(0));
  // 'disconnect' cannot fire while a step blocks this thread; the watchdog thread can.
  watchParent();
  post({ type: 'ready', capabilities: impl.capabilities, device: impl.device });
}

// Session creation as it happens, for whoever wants to say so: a model part builds its graph,
// reads and converts its weights, then ONNX Runtime creates the session (on CPU, 10–60 s for a
// full-size UNet). Parts create sessions lazily on first use, so a job learns about a load only
// here. One listener at a time: the worker runs one job at a time.

/** Where one part's session creation stands; `fraction` is coarse (stage based) but monotonic. */
export interface PartLoadEvent {
  /** ModelPart label: text-encoder, unet, vae-decoder, vae-encoder, ... */
  part: string;
  stage: 'graph' | 'weights' | 'session' | 'ready';
  fraction: number;
}

/**
 * Stage → fraction of one part's load. Building the graph is instant; reading/converting the
 * weights and creating the session take comparable time on CPU (bench:engine load split).
 */
export const STAGE_FRACTION: Record<PartLoadEvent['stage'], number> = { graph: 0, weights: 0.05, session: 0.5, ready: 1 };

type Listener = (e: PartLoadEvent) => void;
let listener: Listener | undefined;

/**
 * Observes part loads until the returned function is called.
 *
 * @example const stop = observePartLoads((e) => log(e.part, e.stage)); try { await run() } finally { stop() }
 */
export function observePartLoads(fn: Listener): () => void {
  listener = fn;
  return () => {
    if (listener === fn) listener = undefined;
  };
}

/** Called by ModelPart at each stage; a throwing listener never breaks a load. */
export function reportPartLoad(part: string, stage: PartLoadEvent['stage']): void {
  try {
    listener?.({ part, stage, fraction: STAGE_FRACTION[stage] });
  } catch {
    // A progress display is never worth a failed load.
  }
}

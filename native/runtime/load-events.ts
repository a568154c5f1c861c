// Session creation as it happens, for whoever wants to say so: a model part builds its graph,
// reads and converts its weights, then ONNX Runtime creates the session (on CPU, 10–60 s for a
// full-size UNet). Parts create sessions lazily on first use, so a job learns about a load only
// here. One listener at a time: the worker runs one job at a time.

/** Where one part's session creation stands; `fraction` (of that part's load) only grows. */
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
/** The part whose weights are being read now (between its 'weights' and 'session' stages). */
let reading: { part: string; last: number } | undefined;
/** Weight-reading progress is sent in steps of at least this much (a UNet has ~700 tensors). */
const WEIGHTS_STEP = 0.05;

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
  reading = stage === 'weights' ? { part, last: STAGE_FRACTION.weights } : undefined;
  try {
    listener?.({ part, stage, fraction: STAGE_FRACTION[stage] });
  } catch {
    // A progress display is never worth a failed load.
  }
}

/**
 * Called by the weight readers after each tensor (`done` of `total`): the part's fraction moves
 * from the 'weights' stage towards the 'session' stage, in steps of WEIGHTS_STEP (and once at the end).
 */
export function reportWeightsRead(done: number, total: number): void {
  if (!reading || !listener || total <= 0) return;
  const fraction = STAGE_FRACTION.weights + (STAGE_FRACTION.session - STAGE_FRACTION.weights) * Math.min(1, done / total);
  if (fraction - reading.last < WEIGHTS_STEP && done < total) return;
  reading.last = fraction;
  try {
    listener({ part: reading.part, stage: 'weights', fraction });
  } catch {
    // A progress display is never worth a failed load.
  }
}

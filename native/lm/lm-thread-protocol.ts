// Messages between the LM host (engine worker main thread) and the LM worker thread. Cancelling goes
// through a shared flag word per request, not a message: the thread's event loop does not turn
// between decoding steps (ONNX Runtime's run() holds it), but it reads the flag at every token.
import type { ExpandRequest } from './prompt-expander.js';

export interface ExpandJob {
  type: 'expand';
  id: number;
  modelDir: string;
  tokenizerDir?: string;
  request: ExpandRequest;
  /** Int32Array over a SharedArrayBuffer: element 0 becomes 1 to cancel. */
  cancel: SharedArrayBuffer;
}

export type HostToThread = ExpandJob | { type: 'unload' };

export interface ExpandSummary {
  prompts: string[];
  /** Seed of each sequence (null when greedy). */
  seeds: Array<number | null>;
  model: string;
  settings: Record<string, unknown>;
}

export type ThreadToHost =
  | { type: 'partial'; id: number; index: number; text: string }
  | { type: 'result'; id: number; result: ExpandSummary }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'loaded'; modelDir: string; ms: number };

// Errors of the runtime layer: a stable `code` for callers (the worker forwards it to clients) and
// a human message.

export type EngineErrorCode =
  | 'cuda_unavailable'
  | 'session_failed'
  | 'run_failed'
  | 'bad_input'
  | 'weight_missing'
  | 'weight_mismatch'
  | 'unsupported_model'
  | 'disposed';

export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

export const CUDA_UNAVAILABLE_MESSAGE =
  'CUDA execution provider is not available: install onnxruntime-node with --onnxruntime-node-install=cuda12 on a machine with CUDA 12 and cuDNN 9';

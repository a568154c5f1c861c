// Errors of the upscaler layer: a stable code for the wire (the worker forwards it to clients) and a
// message that names the file or the setting at fault.

export type UpscaleErrorCode =
  /** The file holds a network of another architecture (DAT, SwinIR, HAT, ...) or an unsupported variant. */
  | 'unsupported_upscaler'
  /** The file cannot be read as a model: truncated, not a torch/safetensors file, tensors missing. */
  | 'bad_upscaler_file'
  /** A .pth whose pickle asks for code outside the tensor allow-list: refused, nothing of it used. */
  | 'unsafe_model_file'
  | 'upscaler_not_found'
  /** Bad arguments: a scale or size out of range, an unknown upscaler name. */
  | 'invalid_params'
  | 'cancelled';

export class UpscaleError extends Error {
  override readonly name = 'UpscaleError';
  constructor(
    readonly code: UpscaleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

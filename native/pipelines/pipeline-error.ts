// Errors of the pipeline layer: a stable code for the wire, a message for people.

export type PipelineErrorCode = 'bad_input' | 'cancelled' | 'unsupported' | 'upscaler_not_found';

export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string) {
    super(message);
    this.name = 'PipelineError';
    this.code = code;
  }
}

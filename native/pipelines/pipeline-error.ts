// Errors of the pipeline layer: a stable code for the wire, a message for people.

export type PipelineErrorCode = 'bad_input' | 'cancelled' | 'unsupported';

export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  constructor(code: PipelineErrorCode, message: string) {
    super(message);
    this.name = 'PipelineError';
    this.code = code;
  }
}

// The error type of checkpoint loading (family detection, config inference, key mapping).
// Codes are stable; messages say what was expected and what was found.

export type CheckpointErrorCode =
  | 'unsupported_format'
  | 'unsupported_model_family'
  | 'missing_key'
  | 'bad_config'
  | 'config_mismatch'
  | 'unknown_key'
  | 'duplicate_key';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// The error type of the language-model layer (GPT-2 folders, tokenizer, generation settings). Codes
// are stable and cross the wire as the `code` of an engine error; messages say expected vs got.

export type LmErrorCode =
  | 'lm_model_not_found'
  | 'lm_bad_config'
  | 'lm_bad_tokenizer'
  | 'lm_missing_weight'
  | 'lm_bad_weight'
  | 'lm_bad_params'
  | 'lm_prompt_too_long'
  | 'lm_cancelled'
  | 'lm_unavailable';

export class LmError extends Error {
  override readonly name = 'LmError';
  constructor(
    readonly code: LmErrorCode,
    message: string,
  ) {
    super(message);
  }
}

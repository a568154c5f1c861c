// The error type of the text layer (tokenizer files, prompt syntax, conditioning). Codes are stable;
// messages say what was expected and what was found.

export type TextErrorCode =
  | 'tokenizer_not_found'
  | 'bad_tokenizer_files'
  | 'bad_attention_weight'
  | 'bad_extra_network_args'
  | 'bad_conditioning_shape'
  | 'bad_steps'
  | 'sdxl_token_mismatch';

export class TextError extends Error {
  override readonly name = 'TextError';
  constructor(
    readonly code: TextErrorCode,
    message: string,
  ) {
    super(message);
  }
}

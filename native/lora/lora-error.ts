// Errors of the extra-network layer (LoRA, LyCORIS, textual inversion, VAE override): a stable code
// for the wire and a message that names the file or module at fault.

export type NetworkErrorCode =
  | 'lora_not_found'
  | 'bad_lora_file'
  | 'lora_shape_mismatch'
  | 'embedding_not_found'
  | 'bad_embedding_file'
  | 'vae_not_found'
  | 'bad_vae_file'
  | 'unsupported_format'
  /** A LoRA or embedding made for another model family than the loaded checkpoint's. */
  | 'model_family_mismatch';

export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly code: NetworkErrorCode,
    message: string,
  ) {
    super(message);
  }
}

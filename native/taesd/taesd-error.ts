// Errors of the TAESD preview decoder: a stable code for the wire and a message naming the file.

export type TaesdErrorCode =
  | 'taesd_not_found'
  /** Not a TAESD decoder: unreadable, tensors missing or of the wrong shape. */
  | 'bad_taesd_file'
  /** A .pth whose pickle asks for code outside the tensor allow-list: refused, nothing of it used. */
  | 'unsafe_model_file'
  | 'invalid_params';

export class TaesdError extends Error {
  override readonly name = 'TaesdError';
  constructor(
    readonly code: TaesdErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

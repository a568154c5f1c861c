// Errors of the ADetailer pass: a stable code for the wire, a message for people.

export type ADetailerErrorCode = 'bad_input' | 'not_implemented' | 'cancelled';

export class ADetailerError extends Error {
  override readonly name = 'ADetailerError';
  constructor(
    readonly code: ADetailerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

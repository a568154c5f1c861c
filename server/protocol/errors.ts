// Error codes, the error class thrown inside the server, and the ack shapes every Socket.IO action
// answers with. Kept free of Node-only imports: the web app imports these as types.
import type { z } from 'zod';

/** Stable codes: clients branch on these, never on messages. Append only. */
export const ERROR_CODES = [
  'invalid_params',
  'unknown_action',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'not_found',
  'engine_unavailable',
  'engine_crashed',
  'queue_full',
  'cancelled',
  'conflict',
  'not_implemented',
  'server_stopped',
  'internal',
  // Engine-side failures of a job (the message says what to do).
  'no_model',
  'model_not_found',
  'unsupported_model',
  'lora_unavailable',
  'engine_error',
  // Model downloads (server/models/downloads).
  'download_failed',
  'checksum_mismatch',
  'insufficient_space',
  'forbidden_address',
  'bad_model_file',
  // A .ckpt/.pt whose pickle asks for code outside the tensor allow-list: refused, never run.
  'unsafe_model_file',
  // Google Drive backup (server/drive): what to do is in the message.
  'drive_not_configured',
  'drive_not_connected',
  'drive_auth_failed',
  'drive_forbidden',
  'drive_not_found',
  'drive_unavailable',
  'drive_error',
  // Extra networks of a generate job (native/lora): a named LoRA / VAE file is not there.
  'lora_not_found',
  'vae_not_found',
  // A checkpoint of a family the engine does not run (SD2.x, SD3, Flux); the message names it.
  'unsupported_model_family',
  // A LoRA or embedding made for another family than the checkpoint (SD1 LoRA on SDXL, ...).
  'model_family_mismatch',
  // SDXL: the two tokenizers split a prompt into different chunk counts (A1111 fails there too).
  'sdxl_token_mismatch',
  // Upscaling (native/upscale): a file of another architecture, or a name with no file.
  'unsupported_upscaler',
  'upscaler_not_found',
  // ADetailer (native/detect): a detector file of another family, or one that is not there.
  'unsupported_detector',
  'detector_not_found',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error as it crosses the wire (ack or `error` event). */
export interface WireError {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending input field, e.g. `loras.2.weight`. */
  field?: string;
  /** Set with `rate_limited`: seconds until the next action is accepted. */
  retry_after_s?: number;
}

export type AckOk<T extends object> = { ok: true } & T;
export interface AckErr {
  ok: false;
  error: WireError;
}
export type Ack<T extends object> = AckOk<T> | AckErr;
export type AckCallback<T extends object> = (res: Ack<T>) => void;

/**
 * The one error type thrown by server code that should reach a client as data.
 *
 * @example throw new EaselError('not_found', `no job ${id}`)
 */
export class EaselError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { field?: string; retryAfterS?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'EaselError';
    this.code = code;
    this.field = opts.field;
    this.retryAfterS = opts.retryAfterS;
  }

  toWire(): WireError {
    const out: WireError = { code: this.code, message: this.message };
    if (this.field !== undefined) out.field = this.field;
    if (this.retryAfterS !== undefined) out.retry_after_s = this.retryAfterS;
    return out;
  }
}

export function isEaselError(e: unknown): e is EaselError {
  return e instanceof EaselError;
}

/** Dotted path of a zod issue (`loras.2.weight`); the root becomes `(payload)`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(payload)' : path.map((p) => String(p)).join('.');
}

/**
 * Turns the first zod issue into an `invalid_params` error naming the field. Unknown keys
 * (`.strict()`) name the key itself, so `{ promt: '' }` says `field: "promt"`.
 */
export function zodToEaselError(err: z.ZodError): EaselError {
  const issue = err.issues[0];
  if (!issue) return new EaselError('invalid_params', 'invalid payload', { field: '(payload)' });
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const field = issuePath([...issue.path, key]);
    return new EaselError('invalid_params', `unknown field "${field}"`, { field });
  }
  const field = issuePath(issue.path);
  return new EaselError('invalid_params', `${field}: ${issue.message}`, { field });
}

// The web app's error type: every failure the UI shows has a stable code (the server's codes plus
// a few client-side ones) and a human message; `field` lets the form mark the offending input.
import type { ErrorCode, WireError } from './protocol.js';

export type ClientErrorCode = ErrorCode | 'offline' | 'timeout' | 'not_configured' | 'network' | 'http_error' | 'quota_exceeded';

export class EaselClientError extends Error {
  readonly code: ClientErrorCode;
  readonly field: string | undefined;
  readonly retryAfterS: number | undefined;

  constructor(code: ClientErrorCode, message: string, opts: { field?: string; retryAfterS?: number } = {}) {
    super(message);
    this.name = 'EaselClientError';
    this.code = code;
    this.field = opts.field;
    this.retryAfterS = opts.retryAfterS;
  }

  static fromWire(e: WireError): EaselClientError {
    const opts: { field?: string; retryAfterS?: number } = {};
    if (e.field !== undefined) opts.field = e.field;
    if (e.retry_after_s !== undefined) opts.retryAfterS = e.retry_after_s;
    return new EaselClientError(e.code, e.message, opts);
  }
}

/** The sentence a toast shows for an error: clear about auth, rate limits and the missing engine. */
export function describeError(err: unknown): string {
  if (!(err instanceof EaselClientError)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case 'unauthorized':
      return 'The server refused the token. Check it in Settings.';
    case 'rate_limited':
      return err.retryAfterS !== undefined
        ? `Too many requests: try again in ${Math.ceil(err.retryAfterS)} s.`
        : 'Too many requests: wait a moment and try again.';
    case 'engine_unavailable':
      return `The image engine is not available on this server: ${err.message}`;
    case 'not_configured':
      return 'Set the server URL and token in Settings first.';
    case 'offline':
      return 'Offline: the action will be sent when the connection returns.';
    case 'invalid_params':
      return err.field ? `${err.field}: ${err.message.replace(new RegExp(`^${escapeRegExp(err.field)}:\\s*`), '')}` : err.message;
    default:
      return err.message;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

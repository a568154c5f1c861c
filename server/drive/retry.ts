// The retry policy for Drive requests: network errors, 429, 5xx and the rate-limit flavours of 403
// are retried with exponential backoff and full jitter (never sooner than Retry-After); a 401
// refreshes the access token once and retries; anything else becomes an EaselError with a drive_*
// code at once. https://developers.google.com/drive/api/guides/limits#exponential
import { EaselError } from '../protocol/errors.js';
import { DriveRequestError, toDriveError } from './drive-client.js';

/** 403 reasons that mean "slow down", not "you may not". */
const RATE_LIMIT_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'sharingRateLimitExceeded']);
/** Longest single wait, so a huge Retry-After does not park a sync for an hour. */
const MAX_DELAY_MS = 64_000;

export interface RetryOptions {
  /** First backoff step; doubles per attempt (tests pass 1). */
  baseDelayMs: number;
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Forces a fresh access token; called at most once per call of `withRetry`. */
  refreshAuth?: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; error: DriveRequestError }) => void;
}

export type RetryDecision = 'retry' | 'refresh' | 'fail';

export function classify(err: DriveRequestError): RetryDecision {
  const s = err.status;
  if (s === undefined) return 'retry';
  if (s === 401) return 'refresh';
  if (s === 429 || s >= 500 || s === 408) return 'retry';
  if (s === 403 && err.reason !== undefined && RATE_LIMIT_REASONS.has(err.reason)) return 'retry';
  return 'fail';
}

/** The EaselError a Drive failure surfaces as (status event, ack). */
export function toEaselError(err: DriveRequestError, retriesExhausted: boolean): EaselError {
  const s = err.status;
  const what = `${s === undefined ? 'network error' : `HTTP ${s}${err.reason ? ` ${err.reason}` : ''}`}: ${err.message}`;
  if (s === 401) return new EaselError('drive_auth_failed', `Google rejected the Drive credentials (${what}); connect Drive again`);
  if (s === 403 && !retriesExhausted) return new EaselError('drive_forbidden', `Drive refused the request (${what})`);
  if (s === 404) return new EaselError('drive_not_found', `Drive has no such file or folder (${what})`);
  if (retriesExhausted) return new EaselError('drive_unavailable', `Drive did not answer after several tries (${what})`);
  return new EaselError('drive_error', `Drive request failed (${what})`);
}

/** Delay before retry number `attempt` (1-based): full jitter on base·2^(attempt-1), at least Retry-After. */
export function backoffDelay(attempt: number, baseDelayMs: number, retryAfterS: number | undefined, random: () => number): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  const floor = retryAfterS === undefined ? 0 : Math.min(MAX_DELAY_MS, retryAfterS * 1000);
  return Math.max(jittered, floor);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** Ends a wait early when the IO lane closes (server shutdown), so a long Retry-After never holds it up. */
function abortable(wait: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return wait;
  if (signal.aborted) return Promise.resolve();
  return Promise.race([wait, new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))]);
}

/**
 * Runs `fn` until it succeeds, retrying what the policy allows. Throws an EaselError (drive_*).
 *
 * @example const file = await withRetry(() => api.upload(f), { baseDelayMs: 1000, maxAttempts: 6, refreshAuth })
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      if (raw instanceof EaselError) throw raw;
      const err = toDriveError(raw);
      const decision = classify(err);
      if (opts.signal?.aborted) throw new EaselError('cancelled', 'the Drive request was cancelled');
      if (decision === 'refresh' && !refreshed && opts.refreshAuth) {
        refreshed = true;
        try {
          await opts.refreshAuth();
        } catch (refreshErr) {
          throw new EaselError('drive_auth_failed', `the Drive access token could not be refreshed: ${(refreshErr as Error).message}; connect Drive again`);
        }
        continue;
      }
      if (decision !== 'retry') throw toEaselError(err, false);
      if (attempt >= opts.maxAttempts) throw toEaselError(err, true);
      const delayMs = backoffDelay(attempt, opts.baseDelayMs, err.retryAfterS, random);
      opts.onRetry?.({ attempt, delayMs, error: err });
      await abortable(sleep(delayMs), opts.signal);
      if (opts.signal?.aborted) throw new EaselError('cancelled', 'the Drive request was cancelled');
    }
  }
}

import { describe, expect, it } from 'vitest';
import { DriveRequestError, parseRetryAfter, quoteQ, toDriveError } from './drive-client.js';
import { backoffDelay, classify, withRetry } from './retry.js';

const httpError = (status: number, reason?: string, retryAfterS?: number): DriveRequestError => new DriveRequestError(`HTTP ${status}`, status, reason, retryAfterS);
const network = (): DriveRequestError => new DriveRequestError('socket hang up', undefined, undefined, undefined);

describe('classify', () => {
  it('retries network errors, 408, 429, 5xx and rate-limit 403s; refreshes on 401; fails the rest', () => {
    expect(classify(network())).toBe('retry');
    for (const s of [408, 429, 500, 502, 503, 504]) expect(classify(httpError(s))).toBe('retry');
    for (const r of ['userRateLimitExceeded', 'rateLimitExceeded', 'sharingRateLimitExceeded']) expect(classify(httpError(403, r))).toBe('retry');
    expect(classify(httpError(401))).toBe('refresh');
    for (const [s, r] of [
      [403, 'insufficientFilePermissions'],
      [403, 'storageQuotaExceeded'],
      [403, undefined],
      [404, 'notFound'],
      [400, 'badRequest'],
    ] as const)
      expect(classify(httpError(s, r))).toBe('fail');
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt with jitter in [half, full] of the ceiling, capped, never below Retry-After', () => {
    expect(backoffDelay(1, 100, undefined, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, undefined, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, undefined, () => 1)).toBe(800);
    expect(backoffDelay(30, 100, undefined, () => 1)).toBe(64_000);
    expect(backoffDelay(1, 100, 7, () => 0)).toBe(7000);
    expect(backoffDelay(1, 100, 100_000, () => 0)).toBe(64_000);
  });
});

describe('withRetry', () => {
  const fast = { baseDelayMs: 1, maxAttempts: 4, sleep: () => Promise.resolve() };

  it('returns once a retryable failure clears', async () => {
    const errors = [httpError(429), httpError(503), network()];
    let calls = 0;
    const out = await withRetry(async () => {
      calls++;
      const e = errors.shift();
      if (e) throw e;
      return 'ok';
    }, fast);
    expect(out).toBe('ok');
    expect(calls).toBe(4);
  });

  it('gives up after maxAttempts with drive_unavailable', async () => {
    let calls = 0;
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(httpError(500));
      }, fast),
    ).rejects.toMatchObject({ code: 'drive_unavailable' });
    expect(calls).toBe(4);
  });

  it('refreshes once on 401, then fails with drive_auth_failed', async () => {
    let refreshes = 0;
    let calls = 0;
    const refreshAuth = async (): Promise<void> => {
      refreshes++;
    };
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(httpError(401));
      }, { ...fast, refreshAuth }),
    ).rejects.toMatchObject({ code: 'drive_auth_failed' });
    expect(refreshes).toBe(1);
    expect(calls).toBe(2);
  });

  it('does not retry a permission 403 and names the reason', async () => {
    let calls = 0;
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(httpError(403, 'insufficientFilePermissions'));
      }, fast),
    ).rejects.toMatchObject({ code: 'drive_forbidden', message: expect.stringContaining('insufficientFilePermissions') });
    expect(calls).toBe(1);
  });
});

describe('drive-client helpers', () => {
  it('quotes query literals', () => {
    expect(quoteQ("it's a \\ folder")).toBe("'it\\'s a \\\\ folder'");
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('normalizes a gaxios-shaped error, and anything without a response as a network error', () => {
    const e = toDriveError({
      message: 'Request failed',
      response: { status: 403, headers: new Headers({ 'retry-after': '5' }), data: { error: { message: 'Rate limit', errors: [{ reason: 'userRateLimitExceeded' }] } } },
    });
    expect(e).toMatchObject({ status: 403, reason: 'userRateLimitExceeded', retryAfterS: 5, message: 'Rate limit' });
    const n = toDriveError(Object.assign(new Error('fetch failed'), { code: 'ECONNRESET' }));
    expect(n.status).toBeUndefined();
    expect(n.message).toContain('fetch failed');
  });
});

describe('withRetry and shutdown', () => {
  it('stops waiting when its signal aborts (the IO lane closed)', async () => {
    const controller = new AbortController();
    const never = (): Promise<void> => new Promise<void>(() => undefined);
    const started = Date.now();
    const run = withRetry(() => Promise.reject(httpError(503, undefined, 60)), { baseDelayMs: 1, maxAttempts: 5, sleep: never, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

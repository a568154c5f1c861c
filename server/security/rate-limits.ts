// The rate limiters (rate-limiter-flexible, in memory): actions per client, connections per IP,
// REST requests per IP. One place turns a rejection into `rate_limited` with a retry time.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { EaselError } from '../protocol/errors.js';

export interface RateLimits {
  actions: RateLimiterMemory;
  /** Actions per client address: a fresh client_id buys no fresh budget. */
  actionsByAddress: RateLimiterMemory;
  /** Actions per token: a ceiling for everything one credential can do (10x the per-client budget). */
  actionsByToken: RateLimiterMemory;
  connections: RateLimiterMemory;
  rest: RateLimiterMemory;
}

export function createRateLimits(cfg: {
  rateLimitPoints: number;
  rateLimitWindowS: number;
  connRateLimitPerMin: number;
  restRateLimitPerMin: number;
  rateLimitAddressPoints?: number;
}): RateLimits {
  return {
    actions: new RateLimiterMemory({ points: cfg.rateLimitPoints, duration: cfg.rateLimitWindowS, keyPrefix: 'actions' }),
    actionsByAddress: new RateLimiterMemory({ points: cfg.rateLimitAddressPoints || cfg.rateLimitPoints, duration: cfg.rateLimitWindowS, keyPrefix: 'actions-addr' }),
    actionsByToken: new RateLimiterMemory({ points: cfg.rateLimitPoints * 10, duration: cfg.rateLimitWindowS, keyPrefix: 'actions-token' }),
    connections: new RateLimiterMemory({ points: cfg.connRateLimitPerMin, duration: 60, keyPrefix: 'conn' }),
    rest: new RateLimiterMemory({ points: cfg.restRateLimitPerMin, duration: 60, keyPrefix: 'rest' }),
  };
}

/**
 * Takes one point for `key`; throws `rate_limited` with `retry_after_s` when none is left.
 *
 * @example await consume(limits.actions, clientId, 'actions')
 */
export async function consume(limiter: RateLimiterMemory, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (res instanceof RateLimiterRes) {
      const retry = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new EaselError('rate_limited', `too many ${what}; retry in ${retry} s`, { retryAfterS: retry });
    }
    throw res;
  }
}

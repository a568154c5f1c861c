// REST access control: the token middleware (Bearer or Basic, constant-time compare), CORS for the
// configured origins only, and the per-IP REST rate limit.
import type { NextFunction, Request, Response } from 'express';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import { isEaselError } from '../protocol/errors.js';
import { consume } from '../security/rate-limits.js';
import { tokenFromAuthorization, tokensEqual } from '../security/token.js';
import { clientAddress, proxyTrust, type ProxyTrust } from '../security/client-ip.js';

export function sendError(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error: { code, message, ...extra } });
}

/** Requires the token on every request it guards; answers 401 with a Basic challenge otherwise. */
export function requireToken(token: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (tokensEqual(tokenFromAuthorization(req.headers.authorization), token)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="easel", charset="UTF-8"');
    sendError(res, 401, 'unauthorized', 'a valid token is required (Authorization: Bearer <token>)');
  };
}

/** CORS for configured origins only; other origins get no CORS headers, so browsers block them. */
export function cors(origins: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, PATCH, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/** One point per request per IP; 429 with Retry-After when exhausted. */
export function restRateLimit(limiter: RateLimiterMemory, trust: ProxyTrust = proxyTrust(['loopback'])) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // The same address rule as the Socket.IO handshake (security/client-ip.ts), not express's req.ip.
    consume(limiter, clientAddress(req.socket.remoteAddress, req.headers, trust), 'requests').then(
      () => next(),
      (err: unknown) => {
        const retry = isEaselError(err) ? (err.retryAfterS ?? 60) : 60;
        res.setHeader('Retry-After', String(retry));
        sendError(res, 429, 'rate_limited', `too many requests; retry in ${retry} s`, { retry_after_s: retry });
      },
    );
  };
}

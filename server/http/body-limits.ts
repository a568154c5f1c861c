// How large a JSON body each REST route may send, so no route parses more than it can use: a
// 30 MB body to /api/tokenize is refused from its Content-Length before a byte of it is read.
// Routes that take images (png-info, the A1111 compat API) get the image limit; a route not named
// here gets that too, so a new image route works before it is listed; small routes are listed.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Paths under /api (prefix match) and their body limits in bytes; first match wins. */
export const SMALL_BODY_ROUTES: readonly { prefix: string; bytes: number }[] = [
  // A prompt of 10,000 characters, each at most a 6-byte JSON escape, plus the braces.
  { prefix: '/tokenize', bytes: 64 * 1024 },
  // Up to 1,000 ids of 64 characters.
  { prefix: '/images/zip', bytes: 128 * 1024 },
  { prefix: '/images', bytes: 16 * 1024 },
  { prefix: '/models', bytes: 16 * 1024 },
  { prefix: '/info', bytes: 16 * 1024 },
];

/**
 * One JSON parser per limit, picked by path.
 *
 * @example api.use(jsonBodyByRoute(imageLimitBytes))
 */
export function jsonBodyByRoute(defaultBytes: number, routes = SMALL_BODY_ROUTES): RequestHandler {
  const parsers = new Map<number, RequestHandler>();
  const parser = (bytes: number): RequestHandler => {
    let p = parsers.get(bytes);
    if (!p) parsers.set(bytes, (p = express.json({ limit: bytes })));
    return p;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const route = routes.find((r) => req.path === r.prefix || req.path.startsWith(`${r.prefix}/`));
    const bytes = route?.bytes ?? defaultBytes;
    // Remembered for the 413 message.
    res.locals['bodyLimitBytes'] = bytes;
    // body-parser would read (and drop) the whole body before answering; a declared length over
    // the limit is answered at once and the connection closed, so none of it is even received.
    if (Number(req.headers['content-length'] ?? 0) > bytes) {
      res.setHeader('Connection', 'close');
      next(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 }));
      return;
    }
    parser(bytes)(req, res, next);
  };
}

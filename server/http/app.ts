// The express app: public health check and app shell, everything under /api behind the token,
// /files behind URL signatures (B's routes), CORS, per-IP limits, JSON body limit, JSON errors.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import { isEaselError, type EaselError } from '../protocol/errors.js';
import { cors, requireToken, restRateLimit, sendError } from './auth.js';
import type { ProxyTrust } from '../security/client-ip.js';
import { jsonBodyByRoute } from './body-limits.js';

export interface HttpAppDeps {
  token: string;
  corsOrigins: readonly string[];
  restLimiter: RateLimiterMemory;
  /** Which peers may report the client's address (TRUSTED_PROXIES). */
  proxyTrust?: ProxyTrust;
  /** Classifies unexpected failures (a full disk → `insufficient_space`, 507). */
  mapError?: (err: unknown) => EaselError | undefined;
  /** Rewrites error messages before they leave (server paths relative to DATA_DIR / MODELS_DIR). */
  redact?: (text: string) => string;
  logger: Logger;
  /** Largest JSON body (bytes); image uploads are base64 so this follows MAX_IMAGE_BYTES. */
  jsonLimitBytes: number;
  health: () => Record<string, unknown>;
  info: () => Promise<Record<string, unknown>>;
  /** B's image routes, mounted at /api behind the token. */
  imageRoutes?: Router;
  /** POST /api/tokenize, behind the token. */
  tokenizeRoutes?: Router;
  /** GET /api/models, behind the token. */
  modelRoutes?: Router;
  /** B's signed file routes, mounted at /files (the signature is the credential). */
  fileRoutes?: Router;
  /** The built PWA, served at / when the folder exists. */
  webDist?: string;
  /** The AUTOMATIC1111 API (server/http/sdapi), mounted at /sdapi/v1 behind the token. */
  sdapiRoutes?: Router;
  /** The REST job API with server-sent events (server/http/jobs-api), under /api behind the token. */
  jobRoutes?: Router;
  /** The sd-webui-controlnet routes (server/http/controlnet-routes.ts), mounted at /controlnet behind the token. */
  controlnetRoutes?: Router;
  /** GET /api/openapi.json. */
  openapi?: () => Record<string, unknown>;
}

const STATUS_BY_CODE: Record<string, number> = {
  invalid_params: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  not_implemented: 501,
  engine_unavailable: 503,
  insufficient_space: 507,
  queue_full: 503,
  server_stopped: 503,
};

export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(restRateLimit(deps.restLimiter, deps.proxyTrust));
  app.use(cors(deps.corsOrigins));

  // Public on purpose: Docker/Colab health checks run without the token. It reveals no secrets.
  app.get('/api/health', (_req, res) => {
    res.json(deps.health());
  });

  const api = express.Router();
  api.use(requireToken(deps.token));
  api.use(jsonBodyByRoute(deps.jsonLimitBytes));
  api.get('/info', (_req, res, next) => {
    deps.info().then((info) => res.json(info), next);
  });
  if (deps.imageRoutes) api.use(deps.imageRoutes);
  if (deps.tokenizeRoutes) api.use(deps.tokenizeRoutes);
  if (deps.modelRoutes) api.use(deps.modelRoutes);
  if (deps.jobRoutes) api.use(deps.jobRoutes);
  const openapi = deps.openapi;
  if (openapi) api.get('/openapi.json', (_req, res) => void res.json(openapi()));
  api.use((_req, res) => sendError(res, 404, 'not_found', 'no such API route'));
  app.use('/api', api);

  if (deps.fileRoutes) app.use('/files', deps.fileRoutes);
  // Anything else under /files (`/files/thumbs/..` normalises to `/files/`) answers like the API.
  app.use('/files', (_req, res) => sendError(res, 404, 'not_found', 'no such file'));

  // Every /sdapi path needs the token, including ones that do not exist (they then answer 404).
  if (deps.sdapiRoutes) {
    app.use('/sdapi', requireToken(deps.token));
    app.use('/sdapi/v1', deps.sdapiRoutes);
  }

  if (deps.controlnetRoutes) app.use('/controlnet', requireToken(deps.token), deps.controlnetRoutes);

  if (deps.webDist && existsSync(deps.webDist)) app.use(express.static(deps.webDist, { index: 'index.html', dotfiles: 'ignore' }));
  // Whatever is left answers with the usual error body, never express's HTML page.
  app.use((_req, res) => sendError(res, 404, 'not_found', 'not found'));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isEaselError(err)) {
      if (err.retryAfterS !== undefined) res.setHeader('Retry-After', String(err.retryAfterS));
      return sendError(res, STATUS_BY_CODE[err.code] ?? 500, err.code, deps.redact ? deps.redact(err.message) : err.message, {
        ...(err.field ? { field: err.field } : {}),
        ...(err.retryAfterS !== undefined ? { retry_after_s: err.retryAfterS } : {}),
      });
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') return sendError(res, 413, 'invalid_params', `request body larger than ${Number(res.locals['bodyLimitBytes'] ?? deps.jsonLimitBytes)} bytes for ${req.path}`);
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_params', 'request body is not valid JSON');
    // A path that is not valid percent-encoding (`..%c0%af`) is the client's mistake, not ours.
    if (err instanceof URIError) return sendError(res, 400, 'invalid_params', 'the URL is not valid percent-encoding');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, 'invalid_params', e.type ? `request refused (${e.type})` : 'the URL is not valid percent-encoding');
    }
    const mapped = deps.mapError?.(err);
    if (mapped) return sendError(res, STATUS_BY_CODE[mapped.code] ?? 500, mapped.code, mapped.message);
    deps.logger.error({ err }, 'request failed');
    sendError(res, 500, 'internal', 'internal error');
  });
  return app;
}

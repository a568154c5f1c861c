// The AUTOMATIC1111 v1.10.1 web API at /sdapi/v1 (COMPAT.md section 1), over Easel's queue, engine,
// gallery and options. Mounted by app.ts behind the token (Bearer, or Basic with the token as the
// password, as `--api-auth` clients send it).
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { SdapiDeps } from './deps.js';
import { sdapiErrorHandler } from './errors.js';
import { createGenerateRoutes } from './generate-routes.js';
import { createListRoutes } from './list-routes.js';
import { createStateRoutes } from './state-routes.js';

export { SDAPI_CLIENT_ID, type SdapiDeps } from './deps.js';
export { OptionsStore } from './options-store.js';

/**
 * @example app.use('/sdapi/v1', requireToken(token), createSdapiRouter(deps, logger, limit))
 */
export function createSdapiRouter(deps: SdapiDeps, logger: Logger, jsonLimitBytes: number): Router {
  const router = express.Router();
  // FastAPI reads the body as JSON whatever the Content-Type says; so does this.
  router.use(express.json({ limit: jsonLimitBytes, type: () => true, strict: false }));
  router.use(createGenerateRoutes(deps));
  router.use(createStateRoutes(deps));
  router.use(createListRoutes(deps));
  router.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  });
  router.use(sdapiErrorHandler(logger));
  return router;
}

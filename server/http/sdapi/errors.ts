// How /sdapi/v1 answers errors: validation as FastAPI's 422 `{detail: [{loc, msg, type}]}`, and
// everything else in A1111's own error shape `{error, detail, body, errors}` plus Easel's stable
// `code` (and `feature` for a 501), with the status the code means.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { EaselError, isEaselError } from '../../protocol/errors.js';
import { RequestValidationError } from './a1111-request.js';
import { MissingFeatureError } from './translate.js';

const STATUS: Record<string, number> = {
  invalid_params: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  lora_not_found: 404,
  vae_not_found: 404,
  conflict: 409,
  rate_limited: 429,
  not_implemented: 501,
  engine_unavailable: 503,
  engine_crashed: 503,
  queue_full: 503,
  server_stopped: 503,
};

export function statusOf(err: EaselError): number {
  return STATUS[err.code] ?? 500;
}

/** A1111's error body (`api.py` `handle_exception`), with Easel's code. */
export function errorBody(err: EaselError): Record<string, unknown> {
  return {
    error: err.name === 'MissingFeatureError' ? 'NotImplementedError' : err.code,
    detail: err.message,
    body: '',
    errors: err.message,
    code: err.code,
    ...(err instanceof MissingFeatureError ? { feature: err.feature } : {}),
  };
}

/** The error middleware of the /sdapi/v1 router. */
export function sdapiErrorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    let status = 500;
    let body: unknown;
    const e = err as { type?: string; message?: string };
    if (err instanceof RequestValidationError) {
      status = 422;
      body = { detail: err.detail };
    } else if (e.type === 'entity.parse.failed') {
      status = 422;
      body = { detail: [{ loc: ['body', 0], msg: `request body is not valid JSON: ${e.message ?? ''}`.trim(), type: 'value_error.jsondecode' }] };
    } else if (e.type === 'entity.too.large') {
      status = 413;
      body = errorBody(new EaselError('invalid_params', 'request body too large'));
    } else if (isEaselError(err)) {
      status = statusOf(err);
      body = errorBody(err);
      if (err.code === 'rate_limited' && err.retryAfterS) res.setHeader('Retry-After', String(err.retryAfterS));
    } else {
      logger.error({ err }, 'sdapi request failed');
      body = errorBody(new EaselError('internal', 'internal error'));
    }
    if (res.headersSent) {
      // The keep-alive already sent 200: the error goes in the body, the only place left.
      if (!res.writableEnded) res.end(JSON.stringify(body));
      return;
    }
    res.status(status).json(body);
  };
}

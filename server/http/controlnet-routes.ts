// The sd-webui-controlnet v1.1.455 API routes (scripts/api.py), behind the token like /sdapi:
// GET /controlnet/version, /settings, /model_list, /module_list(?alias_names=true) and POST
// /controlnet/detect (a preprocessor preview run on the engine worker). Request coercion and
// errors as FastAPI answers them (422 `{detail}`), Easel's coded 501 for what this build lacks.
import express, { type Request, type Router } from 'express';
import type { Logger } from 'pino';
import { MAX_CONTROLNET_UNITS } from '../protocol/controlnet.js';
import { imageInputSchema, type ImageLimits } from '../protocol/image-input.js';
import { EaselError } from '../protocol/errors.js';
import { findControlNetModule } from '../../native/controlnet/modules.js';
import type { ControlNetService } from '../controlnet/controlnet-service.js';
import { parseRequest, RequestValidationError, type FieldSpec } from './sdapi/a1111-request.js';
import { sdapiErrorHandler } from './sdapi/errors.js';

/** The extension's API version (`external_code.get_api_version`). */
const API_VERSION = 3;

const DETECT_FIELDS: Record<string, FieldSpec> = {
  controlnet_module: { type: 'str', default: 'none' },
  controlnet_input_images: { type: 'str_list', default: [] },
  controlnet_processor_res: { type: 'int', default: -1 },
  controlnet_threshold_a: { type: 'float', default: -1 },
  controlnet_threshold_b: { type: 'float', default: -1 },
  controlnet_masks: { type: 'str_list', default: [] },
  low_vram: { type: 'bool', default: false },
};

/** FastAPI's bool query parsing. */
function boolQuery(req: Request, name: string, fallback: boolean): boolean {
  const v = req.query[name];
  if (v === undefined) return fallback;
  const s = String(v).toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(s)) return true;
  if (['0', 'false', 'off', 'no'].includes(s)) return false;
  throw new RequestValidationError([{ loc: ['query', name], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }]);
}

/** An HTTPException(422, detail) of the extension: `{detail: "..."}`. */
class DetailError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export interface ControlNetRoutesDeps {
  controlnet: Pick<ControlNetService, 'modelTitles' | 'moduleList' | 'preprocess'>;
  limits: ImageLimits;
  /** Lists the model folders again (`?update=true`, the extension's default). */
  rescanModels: () => Promise<unknown>;
}

/**
 * @example app.use('/controlnet', requireToken(token), createControlNetRoutes(deps, logger, limit))
 */
export function createControlNetRoutes(deps: ControlNetRoutesDeps, logger: Logger, jsonLimitBytes: number): Router {
  const router = express.Router();
  router.use(express.json({ limit: jsonLimitBytes, type: () => true, strict: false }));
  const image = imageInputSchema(deps.limits);

  router.get('/version', (_req, res) => void res.json({ version: API_VERSION }));
  router.get('/settings', (_req, res) => void res.json({ control_net_unit_count: MAX_CONTROLNET_UNITS }));

  router.get('/model_list', async (req, res) => {
    if (boolQuery(req, 'update', true)) await deps.rescanModels();
    res.json({ model_list: await deps.controlnet.modelTitles() });
  });

  router.get('/module_list', (req, res) => {
    res.json(deps.controlnet.moduleList(boolQuery(req, 'alias_names', false)));
  });

  router.post('/detect', async (req, res) => {
    const r = parseRequest(DETECT_FIELDS, req.body ?? {});
    const module = String(r.controlnet_module);
    const inputs = r.controlnet_input_images as string[];
    const masks = r.controlnet_masks as string[];
    if (inputs.length === 0) throw new DetailError('No image selected');
    if (findControlNetModule(module)?.requiresMask && masks.length !== inputs.length) throw new DetailError(`Preprocessor ${module} requires \`controlnet_masks\` param.`);
    const decode = (value: string, loc: (string | number)[]): Uint8Array => {
      const parsed = image.safeParse(value);
      if (!parsed.success) throw new RequestValidationError([{ loc: ['body', ...loc], msg: parsed.error.issues[0]?.message ?? 'not an image', type: 'value_error' }]);
      return parsed.data;
    };
    const images: string[] = [];
    for (const [i, input] of inputs.entries()) {
      const mask = masks[i];
      const out = await deps.controlnet.preprocess(
        {
          module,
          image: decode(input, ['controlnet_input_images', i]),
          mask: mask ? decode(mask, ['controlnet_masks', i]) : undefined,
          // -1 (the default) lets the module's slider default apply, as the extension's unit does.
          processor_res: r.controlnet_processor_res as number,
          threshold_a: r.controlnet_threshold_a as number,
          threshold_b: r.controlnet_threshold_b as number,
        },
        'controlnet_module',
      );
      images.push(Buffer.from(out.png.buffer, out.png.byteOffset, out.png.byteLength).toString('base64'));
    }
    res.json({ info: 'Success', images });
  });

  router.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  });
  const fallback = sdapiErrorHandler(logger);
  router.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (err instanceof DetailError) return void res.status(422).json({ detail: err.detail });
    // An unknown module is the extension's "Module not available" (422).
    if (err instanceof EaselError && err.code === 'invalid_params' && err.field === 'controlnet_module') return void res.status(422).json({ detail: 'Module not available' });
    fallback(err, req, res, next);
  });
  return router;
}

// POST /sdapi/v1/txt2img, /img2img, /extra-single-image, /extra-batch-images: validate as A1111
// does (422), translate to an Easel job, queue it through the socket's own handlers (so the queue,
// interrupt and the PWA see it), keep the answer alive while it runs, then answer A1111's shape.
import express, { type Request, type Response, type Router } from 'express';
import { EaselError } from '../../protocol/errors.js';
import type { JobStatusEvent } from '../../protocol/events.js';
import { IMG2IMG_FIELDS, RequestValidationError, TXT2IMG_FIELDS, parseRequest, type FieldSpec } from './a1111-request.js';
import { generationAnswer } from './answer.js';
import { SDAPI_CLIENT_ID, type SdapiDeps } from './deps.js';
import { awaitJob, keepAlive, type KeepAlive } from './sync-job.js';
import { MissingFeatureError, toGenerationInput, zodIssuesToDetail } from './translate.js';
import { errorBody, statusOf } from './errors.js';
import { applyInfotext } from './apply-infotext.js';
import { findCheckpoint, findVae } from './model-titles.js';
import type { CapturedResult } from '../../jobs/job-results.js';

const CTX = { clientId: SDAPI_CLIENT_ID, socketId: 'sdapi' };

const EXTRA_SINGLE_FIELDS: Record<string, FieldSpec> = {
  resize_mode: { type: 'int', default: 0 },
  show_extras_results: { type: 'bool', default: true },
  gfpgan_visibility: { type: 'float', default: 0 },
  codeformer_visibility: { type: 'float', default: 0 },
  codeformer_weight: { type: 'float', default: 0 },
  upscaling_resize: { type: 'float', default: 2 },
  upscaling_resize_w: { type: 'int', default: 512 },
  upscaling_resize_h: { type: 'int', default: 512 },
  upscaling_crop: { type: 'bool', default: true },
  upscaler_1: { type: 'str', default: 'None' },
  upscaler_2: { type: 'str', default: 'None' },
  extras_upscaler_2_visibility: { type: 'float', default: 0 },
  upscale_first: { type: 'bool', default: false },
  image: { type: 'str', default: '' },
};
const EXTRA_BATCH_FIELDS: Record<string, FieldSpec> = {
  ...Object.fromEntries(Object.entries(EXTRA_SINGLE_FIELDS).filter(([k]) => k !== 'image')),
  imageList: { type: 'list', default: [] },
};

interface JobOutcome {
  end: JobStatusEvent;
  result: CapturedResult | undefined;
  ka: KeepAlive;
}

export function createGenerateRoutes(deps: SdapiDeps): Router {
  const router = express.Router();

  /** Waits for a queued job while keeping the answer alive; cancels it if the client leaves and nothing would keep its images. */
  const follow = async (res: Response, ka: KeepAlive, jobId: string, keep: boolean): Promise<JobOutcome> => {
    deps.results.watch(jobId, keep);
    try {
      const end = await awaitJob(res, deps.hub.whenFinished(jobId), () => {
        if (keep) return;
        try {
          deps.queue.cancel(jobId, SDAPI_CLIENT_ID);
        } catch {
          // Already finished: nothing to stop.
        }
      });
      return { end, result: deps.results.take(jobId), ka };
    } catch (err) {
      ka.stop();
      deps.results.take(jobId);
      throw err;
    }
  };

  /** A failed job's answer: its code's status when nothing was sent yet, else the error in the 200 body. */
  const failed = (o: JobOutcome): boolean => {
    if (o.end.status !== 'failed') return false;
    const err = new EaselError(o.end.error?.code ?? 'internal', o.end.error?.message ?? 'the job failed');
    o.ka.finish(statusOf(err), errorBody(err));
    return true;
  };

  const generate = (kind: 'txt2img' | 'img2img', fields: Record<string, FieldSpec>) => async (req: Request, res: Response) => {
    const [checkpoints, vaes] = await Promise.all([deps.listModels('checkpoint'), deps.listModels('vae')]);
    const explicit = new Set(typeof req.body === 'object' && req.body !== null ? Object.keys(req.body as object) : []);
    const request = applyInfotext(parseRequest(fields, req.body), explicit, fields, {
      checkpoint: (n) => findCheckpoint(checkpoints, n) !== undefined,
      vae: (n) => findVae(vaes, n) !== undefined,
    });
    const t = toGenerationInput(kind, request, { capabilities: deps.capabilities(), options: deps.options.get(), checkpoints, vaes });
    const parsed = deps.schemas.generate.safeParse(t.params);
    if (!parsed.success) throw new RequestValidationError(zodIssuesToDetail(parsed.error, t.locOf));
    const keep = request.save_images === true || deps.options.get().samples_save;
    const startedAt = Date.now();
    const { job_id } = await deps.jobs.generate(parsed.data, CTX);
    const outcome = await follow(res, keepAlive(res, deps.keepAliveMs), job_id, keep);
    if (failed(outcome)) return;
    // An interrupted job answers like A1111's: 200, with the images there are (none: Easel's engine
    // stops without decoding a partial image).
    outcome.ka.finish(200, generationAnswer({ kind, request, params: parsed.data as unknown as Record<string, unknown>, result: outcome.result, startedAt }));
  };

  router.post('/txt2img', generate('txt2img', TXT2IMG_FIELDS));
  router.post('/img2img', generate('img2img', IMG2IMG_FIELDS));

  /** Upscaling through the `upscale` job kind, once the worker reports the capability. */
  const requireUpscale = (): void => {
    if (!deps.capabilities()?.upscale) throw new MissingFeatureError('upscale', 'upscaling (extras) is not available in this build yet');
  };

  const upscaleOne = async (res: Response, ka: KeepAlive, request: Record<string, unknown>, image: string): Promise<JobOutcome> => {
    if (request.upscaler_2 !== 'None' && request.extras_upscaler_2_visibility !== 0) {
      throw new MissingFeatureError('upscaler_2', 'a second upscaler (upscaler_2) is not available in Easel');
    }
    if (request.resize_mode !== 0) throw new MissingFeatureError('resize_mode', 'extras resize_mode 1 (to width × height) is not available through /sdapi/v1; use upscaling_resize');
    if ((request.gfpgan_visibility as number) > 0 || (request.codeformer_visibility as number) > 0) {
      throw new MissingFeatureError('restore_faces', 'face restoration (GFPGAN/CodeFormer) is not available in Easel');
    }
    const input = { image, upscaler: request.upscaler_1, scale: request.upscaling_resize };
    const parsed = deps.schemas.upscale.safeParse(input);
    if (!parsed.success) {
      throw new RequestValidationError(
        zodIssuesToDetail(parsed.error, (p) => {
          const head = String(p[0] ?? '');
          return [{ image: 'image', upscaler: 'upscaler_1', scale: 'upscaling_resize' }[head] ?? head, ...p.slice(1).map((x) => (typeof x === 'number' ? x : String(x)))];
        }),
      );
    }
    const keep = deps.options.get().samples_save;
    const { job_id } = await deps.jobs.upscale(parsed.data, CTX);
    return follow(res, ka, job_id, keep);
  };

  router.post('/extra-single-image', async (req, res) => {
    const request = parseRequest(EXTRA_SINGLE_FIELDS, req.body);
    requireUpscale();
    const o = await upscaleOne(res, keepAlive(res, deps.keepAliveMs), request, String(request.image));
    if (failed(o)) return;
    o.ka.finish(200, { html_info: '', image: o.result?.images[0]?.png.toString('base64') ?? null });
  });

  router.post('/extra-batch-images', async (req, res) => {
    const request = parseRequest(EXTRA_BATCH_FIELDS, req.body);
    requireUpscale();
    const list = request.imageList as unknown[];
    const data = list.map((item, i) => {
      const d = typeof item === 'object' && item !== null ? (item as { data?: unknown }).data : undefined;
      if (typeof d !== 'string') throw new RequestValidationError([{ loc: ['body', 'imageList', i, 'data'], msg: 'str type expected', type: 'type_error.str' }]);
      return d;
    });
    const ka = keepAlive(res, deps.keepAliveMs);
    const images: string[] = [];
    for (const d of data) {
      const o = await upscaleOne(res, ka, request, d);
      if (failed(o)) return;
      const png = o.result?.images[0]?.png;
      if (png) images.push(png.toString('base64'));
    }
    ka.finish(200, { html_info: '', images });
  });

  return router;
}

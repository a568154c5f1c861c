// GET /sdapi/v1/progress, POST interrupt and skip, GET/POST options, GET cmd-flags: A1111's view of
// "the" running job, which in Easel is whatever the GPU lane runs now, whoever queued it.
import express, { type Router } from 'express';
import { RequestValidationError, coerce, type ValidationDetail } from './a1111-request.js';
import type { SdapiDeps } from './deps.js';
import { checkpointTitle, findCheckpoint, findVae } from './model-titles.js';
import type { SdapiOptions } from './options-store.js';
import { BBOX_SORTBY } from '../../../native/adetailer/args.js';
import { MissingFeatureError } from './translate.js';
import { jobTimestamp } from './answer.js';

const TRUE = new Set(['1', 'true', 'yes', 'on', 't', 'y']);

export function createStateRoutes(deps: SdapiDeps): Router {
  const router = express.Router();
  /** Jobs stopped through interrupt/skip, so progress can say `interrupted` until they end. */
  const interrupted = new Set<string>();

  router.get('/progress', (req, res) => {
    const skipImage = TRUE.has(String(req.query.skip_current_image ?? '').toLowerCase());
    const running = deps.queue.runningJob;
    const jobCount = (running ? 1 : 0) + deps.queue.queuedCount;
    const state = deps.hub.progressOf(running?.id ?? '');
    // The job's own latest progress (phase, ETA over the phases ahead): the same numbers the socket
    // and SSE views carry (server/jobs/job-progress.ts).
    const live = running?.progress;
    const step = state?.step ?? live?.step ?? 0;
    const total = state?.total ?? live?.total ?? 0;
    // A1111: progress = 0.01 + job_no/job_count + sampling_step/sampling_steps/job_count, for the running job.
    const progress = running ? Math.min(1, 0.01 + (total > 0 ? step / total : 0)) : 0;
    const elapsed = running?.startedAt ? (Date.now() - running.startedAt) / 1000 : 0;
    const eta = live?.eta_s ?? (running && progress > 0 ? Math.max(0, elapsed / progress - elapsed) : 0);
    const preview = state?.preview;
    res.json({
      progress,
      eta_relative: eta,
      state: {
        skipped: false,
        interrupted: running ? interrupted.has(running.id) : false,
        stopping_generation: false,
        job: running ? `task(${running.id})` : '',
        job_count: jobCount,
        job_timestamp: running?.startedAt ? jobTimestamp(running.startedAt) : '0',
        job_no: 0,
        sampling_step: step,
        sampling_steps: total,
      },
      current_image: !skipImage && running && preview ? Buffer.from(preview.buffer, preview.byteOffset, preview.byteLength).toString('base64') : null,
      textinfo: live?.phase ? [live.phase, live.detail].filter(Boolean).join(': ') : null,
      current_task: running ? `task(${running.id})` : null,
    });
  });

  /** Stops the running job (A1111 stops whatever runs); Easel's engine stops within one step. */
  const stopRunning = (): void => {
    const running = deps.queue.runningJob;
    if (!running) return;
    interrupted.add(running.id);
    if (interrupted.size > 100) interrupted.delete(interrupted.values().next().value!);
    try {
      deps.queue.cancel(running.id, running.clientId);
    } catch {
      // It ended meanwhile.
    }
  };
  router.post('/interrupt', (_req, res) => {
    stopRunning();
    res.json({});
  });
  // Easel runs a job's batches as one engine call, so skipping "the current batch" stops the job.
  router.post('/skip', (_req, res) => {
    stopRunning();
    res.json({});
  });

  const optionsView = async (): Promise<Record<string, unknown>> => {
    const o = deps.options.get();
    const checkpoints = await deps.listModels('checkpoint');
    // Unset: what the engine picks for a job that names no model (native/generation-service.ts
    // resolveModel: the first .safetensors/.ckpt directly in checkpoints/, by name).
    const engineDefault = checkpoints
      .filter((m) => !m.name.includes('/') && /\.(safetensors|ckpt)$/i.test(m.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
    const current = (o.sd_model_checkpoint ? findCheckpoint(checkpoints, o.sd_model_checkpoint) : undefined) ?? engineDefault;
    return {
      sd_model_checkpoint: current ? checkpointTitle(current) : null,
      sd_checkpoint_hash: current?.sha256 ?? null,
      sd_vae: o.sd_vae ?? 'Automatic',
      CLIP_stop_at_last_layers: o.CLIP_stop_at_last_layers,
      samples_save: o.samples_save,
      samples_format: 'png',
      eta_noise_seed_delta: o.eta_noise_seed_delta,
      randn_source: o.randn_source,
      ad_bbox_sortby: o.ad_bbox_sortby,
      live_previews_enable: deps.previewEvery > 0,
      show_progress_every_n_steps: deps.previewEvery,
      live_previews_image_format: 'jpeg',
      return_grid: false,
      enable_pnginfo: true,
    };
  };

  router.get('/options', async (_req, res) => {
    res.json(await optionsView());
  });

  router.post('/options', async (req, res) => {
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RequestValidationError([{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]);
    }
    const b = body as Record<string, unknown>;
    const patch: Partial<SdapiOptions> = {};
    const detail: ValidationDetail[] = [];
    const typed = (key: string, type: 'str' | 'int' | 'bool'): unknown => {
      const c = coerce(type, b[key]);
      if (c.ok) return c.value;
      detail.push({ loc: ['body', key], msg: c.msg, type: c.type });
      return undefined;
    };
    if (b.sd_model_checkpoint !== undefined) {
      const name = typed('sd_model_checkpoint', 'str');
      if (typeof name === 'string') {
        const m = findCheckpoint(await deps.listModels('checkpoint'), name);
        if (m) patch.sd_model_checkpoint = m.name;
        else detail.push({ loc: ['body', 'sd_model_checkpoint'], msg: `model '${name}' not found`, type: 'value_error' });
      }
    }
    if (b.sd_vae !== undefined) {
      const name = typed('sd_vae', 'str');
      if (name === 'Automatic' || name === 'None') patch.sd_vae = name;
      else if (typeof name === 'string') {
        const m = findVae(await deps.listModels('vae'), name);
        if (m) patch.sd_vae = m.name;
        else detail.push({ loc: ['body', 'sd_vae'], msg: `VAE '${name}' not found`, type: 'value_error' });
      }
    }
    if (b.CLIP_stop_at_last_layers !== undefined) {
      const n = typed('CLIP_stop_at_last_layers', 'int');
      if (typeof n === 'number' && (n < 1 || n > 12)) detail.push({ loc: ['body', 'CLIP_stop_at_last_layers'], msg: `must be between 1 and 12, got ${n}`, type: 'value_error' });
      else if (typeof n === 'number') patch.CLIP_stop_at_last_layers = n;
    }
    if (b.samples_save !== undefined) {
      const v = typed('samples_save', 'bool');
      if (typeof v === 'boolean') patch.samples_save = v;
    }
    if (b.randn_source !== undefined) {
      const v = typed('randn_source', 'str');
      if (v === 'GPU' || v === 'CPU' || v === 'NV') patch.randn_source = v;
      else if (typeof v === 'string') detail.push({ loc: ['body', 'randn_source'], msg: 'must be GPU, CPU or NV', type: 'value_error' });
    }
    if (b.ad_bbox_sortby !== undefined) {
      const v = typed('ad_bbox_sortby', 'str');
      if (typeof v === 'string' && (BBOX_SORTBY as readonly string[]).includes(v)) patch.ad_bbox_sortby = v;
      else if (typeof v === 'string') detail.push({ loc: ['body', 'ad_bbox_sortby'], msg: `must be one of ${BBOX_SORTBY.join(', ')}`, type: 'value_error' });
    }
    if (b.eta_noise_seed_delta !== undefined) {
      const n = typed('eta_noise_seed_delta', 'int');
      if (typeof n === 'number' && n !== 0) throw new MissingFeatureError('eta_noise_seed_delta', 'a non-zero eta_noise_seed_delta is not available in Easel');
    }
    if (detail.length > 0) throw new RequestValidationError(detail);
    // Other A1111 options are accepted and ignored, as A1111 ignores keys it does not know.
    await deps.options.set(patch);
    res.json(null);
  });

  router.get('/cmd-flags', (_req, res) => {
    res.json({
      api: true,
      nowebui: false,
      listen: deps.host === '0.0.0.0' || deps.host === '::',
      port: deps.port(),
      data_dir: deps.dataDir,
      models_dir: deps.modelsDir,
      ckpt_dir: `${deps.modelsDir}/checkpoints`,
      lora_dir: `${deps.modelsDir}/loras`,
      vae_dir: `${deps.modelsDir}/vae`,
      embeddings_dir: `${deps.modelsDir}/embeddings`,
      hypernetwork_dir: null,
      // The token is required, but never shown.
      api_auth: '<set>',
      api_server_stop: false,
    });
  });

  return router;
}

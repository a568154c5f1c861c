// The read-only /sdapi/v1 lists (models, VAEs, samplers, schedulers, upscalers, LoRAs, embeddings,
// ...), the refresh-* routes, memory and png-info, in A1111's shapes, from Easel's model registry
// and sampler table.
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { SAMPLERS, SCHEDULERS } from '../../../native/sampling/names.js';
import { pngInfo } from '../images.js';
import { RequestValidationError, parseRequest } from './a1111-request.js';
import type { SdapiDeps } from './deps.js';
import { sdModelEntry } from './model-titles.js';

const stem = (name: string): string => (name.split('/').pop() ?? name).replace(/\.[A-Za-z0-9]+$/, '');

/** A1111's latent upscale modes (`shared.latent_upscale_modes`), the names `hr_upscaler` takes. */
export const LATENT_UPSCALE_MODES = ['Latent', 'Latent (antialiased)', 'Latent (bicubic)', 'Latent (bicubic antialiased)', 'Latent (nearest)', 'Latent (nearest-exact)'];

const DATA_URL_PREFIX = /^data:[\w/+.-]+;base64,/;

export function createListRoutes(deps: SdapiDeps): Router {
  const router = express.Router();

  router.get('/sd-models', async (_req, res) => {
    res.json((await deps.listModels('checkpoint')).map((m) => sdModelEntry(m, deps.modelsDir)));
  });

  router.get('/sd-vae', async (_req, res) => {
    res.json((await deps.listModels('vae')).map((m) => ({ model_name: m.name, filename: join(deps.modelsDir, 'vae', m.name) })));
  });

  router.get('/samplers', (_req, res) => {
    res.json(
      SAMPLERS.map((s) => ({
        name: s.label,
        aliases: [s.id, ...s.aliases.filter((a) => a !== s.id)],
        options: { scheduler: s.defaultScheduler, ...(s.discardPenultimateSigma ? { discard_next_to_last_sigma: 'True' } : {}) },
      })),
    );
  });

  router.get('/schedulers', (_req, res) => {
    res.json(SCHEDULERS.map((s) => ({ name: s.id, label: s.label, aliases: s.aliases.length > 0 ? [...s.aliases] : null, default_rho: -1, need_inner_model: false })));
  });

  router.get('/upscalers', async (_req, res) => {
    const files = await deps.listModels('upscaler');
    res.json([
      { name: 'None', model_name: null, model_path: null, model_url: null, scale: 4 },
      ...files.map((m) => ({ name: stem(m.name), model_name: stem(m.name), model_path: join(deps.modelsDir, 'upscalers', m.name), model_url: null, scale: 4 })),
    ]);
  });

  router.get('/latent-upscale-modes', (_req, res) => {
    res.json(LATENT_UPSCALE_MODES.map((name) => ({ name })));
  });

  router.get('/loras', async (_req, res) => {
    res.json(
      (await deps.listModels('lora')).map((m) => ({
        name: stem(m.name),
        alias: m.metadata?.output_name ?? stem(m.name),
        path: join(deps.modelsDir, 'loras', m.name),
        metadata: m.metadata ?? {},
      })),
    );
  });

  router.get('/embeddings', async (_req, res) => {
    const loaded: Record<string, unknown> = {};
    for (const m of await deps.listModels('embedding')) loaded[stem(m.name)] = { step: null, sd_checkpoint: null, sd_checkpoint_name: null, shape: null, vectors: null };
    res.json({ loaded, skipped: {} });
  });

  // Easel has no hypernetworks, face restorers, styles file or Real-ESRGAN model list of its own.
  for (const path of ['/hypernetworks', '/face-restorers', '/prompt-styles', '/realesrgan-models']) router.get(path, (_req, res) => res.json([]));
  router.get('/scripts', (_req, res) => res.json({ txt2img: [], img2img: [] }));

  for (const path of ['/refresh-checkpoints', '/refresh-loras', '/refresh-vae', '/refresh-embeddings']) {
    router.post(path, async (_req, res) => {
      await deps.rescanModels();
      res.json(null);
    });
  }

  router.get('/memory', (_req, res) => {
    const total = totalmem();
    const free = freemem();
    // A1111 answers this when torch sees no CUDA device; the engine's own GPU memory is not visible here.
    res.json({ ram: { free, used: total - free, total }, cuda: { error: 'unavailable' } });
  });

  router.post('/png-info', (req, res) => {
    const { image } = parseRequest({ image: { type: 'str', default: null } }, req.body);
    if (typeof image !== 'string') throw new RequestValidationError([{ loc: ['body', 'image'], msg: 'field required', type: 'value_error.missing' }]);
    // A1111 answers an empty image with an empty info.
    if (image.trim() === '') return res.json({ info: '', items: {}, parameters: {} });
    const bytes = Buffer.from(image.replace(DATA_URL_PREFIX, '').replace(/\s+/g, ''), 'base64');
    try {
      res.json(pngInfo(bytes));
    } catch (err) {
      throw new RequestValidationError([{ loc: ['body', 'image'], msg: `not an image: ${err instanceof Error ? err.message : String(err)}`, type: 'value_error' }]);
    }
  });

  return router;
}

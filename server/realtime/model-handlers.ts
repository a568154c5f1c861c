// Socket actions about models and helpers around them: get_models (the registry), download_model
// and cancel_download (the download manager on the IO lane), and enhance_prompt / cancel_enhance
// (GPT-2 prompt expansion on the engine worker, beside any running job, streaming `enhance:partial`).
import { randomUUID } from 'node:crypto';
import { EaselError } from '../protocol/errors.js';
import type { ActionHandler } from './ack.js';
import type { HandlerDeps } from './ports.js';

export function modelHandlers(deps: HandlerDeps) {
  const getModels: ActionHandler<'get_models'> = async (p) => ({ models: await deps.listModels(p?.type) });

  const getStarterModels: ActionHandler<'get_starter_models'> = async () => ({ models: (await deps.starterModels?.()) ?? [] });

  const downloadModel: ActionHandler<'download_model'> = (p, ctx) => {
    if (!deps.downloads) throw new EaselError('not_implemented', 'model downloads are not available in this server');
    return deps.downloads.start(p, ctx.clientId);
  };

  const cancelDownload: ActionHandler<'cancel_download'> = (p) => {
    if (!deps.downloads) throw new EaselError('not_found', `no download ${p.job_id}`, { field: 'job_id' });
    return deps.downloads.cancel(p.job_id);
  };

  /** Running expansions by request id, with the client that started them (only it may cancel). */
  const enhancing = new Map<string, { clientId: string; controller: AbortController }>();

  const enhancePrompt: ActionHandler<'enhance_prompt'> = async (p, ctx) => {
    const enhancer = deps.enhancer;
    if (!enhancer) throw new EaselError('not_implemented', 'prompt enhancement is not available in this server');
    if (!deps.capabilities()?.enhance_prompt) throw new EaselError('engine_unavailable', 'this engine cannot expand prompts (no enhance_prompt capability)');
    const { request_id, ...params } = p;
    const requestId = request_id ?? randomUUID();
    if (enhancing.has(requestId)) throw new EaselError('conflict', `prompt expansion ${requestId} is already running`, { field: 'request_id' });
    const controller = new AbortController();
    enhancing.set(requestId, { clientId: ctx.clientId, controller });
    try {
      const out = await enhancer.enhance(requestId, params, {
        signal: controller.signal,
        onPartial: (index, text) => deps.events.toClient(ctx.clientId, 'enhance:partial', { request_id: requestId, index, text }),
      });
      const seeds = Array.isArray(out.info.seeds) ? (out.info.seeds as Array<number | null>) : [];
      return { request_id: requestId, prompts: out.prompts, model: typeof out.info.model === 'string' ? out.info.model : '', seeds };
    } finally {
      enhancing.delete(requestId);
    }
  };

  const cancelEnhance: ActionHandler<'cancel_enhance'> = (p, ctx) => {
    const running = enhancing.get(p.request_id);
    if (!running || running.clientId !== ctx.clientId) throw new EaselError('not_found', `no running prompt expansion ${p.request_id}`, { field: 'request_id' });
    running.controller.abort();
    return { request_id: p.request_id, status: 'cancelling' as const };
  };

  return {
    get_models: getModels,
    get_starter_models: getStarterModels,
    download_model: downloadModel,
    cancel_download: cancelDownload,
    enhance_prompt: enhancePrompt,
    cancel_enhance: cancelEnhance,
  };
}

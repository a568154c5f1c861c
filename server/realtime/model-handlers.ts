// Socket actions about models and helpers around them: get_models (the registry), download_model
// and cancel_download (the download manager on the IO lane), and enhance_prompt, whose back end
// lands in a later issue and which answers `not_implemented` after validating its input.
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

  const enhancePrompt: ActionHandler<'enhance_prompt'> = () => {
    throw new EaselError('not_implemented', 'prompt enhancement is not available in this build yet');
  };

  return { get_models: getModels, get_starter_models: getStarterModels, download_model: downloadModel, cancel_download: cancelDownload, enhance_prompt: enhancePrompt };
}

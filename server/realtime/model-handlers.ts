// Socket actions about models and helpers around them: get_models (registry scan), and the
// actions whose back ends land in later issues (download_model, enhance_prompt), which validate
// their input and then answer `not_implemented` rather than pretending.
import { EaselError } from '../protocol/errors.js';
import type { ActionHandler } from './ack.js';
import type { HandlerDeps } from './ports.js';

export function modelHandlers(deps: HandlerDeps) {
  const getModels: ActionHandler<'get_models'> = async (p) => ({ models: await deps.listModels(p?.type) });

  const downloadModel: ActionHandler<'download_model'> = () => {
    throw new EaselError('not_implemented', 'model downloads are not available in this build yet');
  };

  const enhancePrompt: ActionHandler<'enhance_prompt'> = () => {
    throw new EaselError('not_implemented', 'prompt enhancement is not available in this build yet');
  };

  return { get_models: getModels, download_model: downloadModel, enhance_prompt: enhancePrompt };
}

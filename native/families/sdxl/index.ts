// SDXL (base 1.0 and models built on it: Pony, Illustrious, NoobAI, Juggernaut XL, ...): CLIP-L +
// OpenCLIP bigG text encoders concatenated, an ADM `vector` of pooled text and size embeddings,
// 4-channel latents scaled by 0.13025, 1024² images and SDXL's aspect buckets.
import { isSdxlConfig, type ModelConfig } from '../../models/config.js';
import type { DiffusionModel } from '../../runtime/diffusion-model.js';
import type { ClipTokenizer } from '../../text/clip-tokenizer.js';
import { getLearnedConditioningWith, getMulticondLearnedConditioningWith } from '../../text/conditioning.js';
import { TextError } from '../../text/errors.js';
import type { FamilyModule, TextConditioner } from '../types.js';
import { sdxlPromptEncoder } from './conditioning.js';

export const SDXL_FAMILY: FamilyModule = {
  id: 'sdxl',
  label: 'SDXL',
  defaultSize: { width: 1024, height: 1024 },
  // Stability's training buckets near one megapixel (the presets every SDXL UI offers).
  sizePresets: [
    [1024, 1024],
    [1152, 896],
    [896, 1152],
    [1216, 832],
    [832, 1216],
    [1344, 768],
    [768, 1344],
    [1536, 640],
    [640, 1536],
  ],
  latentFormat: (config: ModelConfig) => ({ channels: 4, scaleFactor: config.scale_factor, shiftFactor: 0, downscale: 8 }),
  conditioner(model: DiffusionModel, tokenizer: ClipTokenizer): TextConditioner {
    const config = model.config;
    if (!isSdxlConfig(config)) throw new TextError('bad_conditioning_shape', 'the SDXL conditioner needs an SDXL model');
    const openClip = tokenizer.withFlavor('open_clip');
    const clipL = tokenizer.withFlavor('transformers');
    return {
      learned: (prompts, steps, ctx) =>
        getLearnedConditioningWith(prompts, steps, sdxlPromptEncoder(model, config, clipL, openClip, { width: ctx.width, height: ctx.height, isNegative: ctx.isNegative, embeddings: ctx.embeddings }), ctx.schedule),
      multicond: (prompts, steps, ctx) =>
        getMulticondLearnedConditioningWith(prompts, steps, sdxlPromptEncoder(model, config, clipL, openClip, { width: ctx.width, height: ctx.height, embeddings: ctx.embeddings }), ctx.schedule),
    };
  },
};

// SD1.x: one CLIP ViT-L/14 text encoder (last layer + final LayerNorm, "Clip skip" picks an earlier
// one), cross-attention context only, 4-channel latents scaled by 0.18215, 512² images.
import type { ModelConfig } from '../models/config.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';
import type { ClipTokenizer } from '../text/clip-tokenizer.js';
import { getLearnedConditioning, getMulticondLearnedConditioning, type ConditioningDeps } from '../text/conditioning.js';
import type { ConditioningContext, FamilyModule, TextConditioner } from './types.js';

function deps(model: DiffusionModel, tokenizer: ClipTokenizer, ctx: ConditioningContext): ConditioningDeps {
  return {
    tokenizer,
    clipSkip: ctx.clipSkip,
    embeddings: ctx.embeddings,
    encodeChunk: (ids, b, opts) => model.textEncoder.encode(ids, b, { clipSkip: opts.clipSkip }),
  };
}

export const SD1_FAMILY: FamilyModule = {
  id: 'sd1',
  label: 'SD 1.x',
  defaultSize: { width: 512, height: 512 },
  sizePresets: [
    [512, 512],
    [512, 768],
    [768, 512],
    [640, 640],
    [512, 640],
    [640, 512],
  ],
  latentFormat: (config: ModelConfig) => ({ channels: 4, scaleFactor: config.scale_factor, shiftFactor: 0, downscale: 8 }),
  conditioner(model: DiffusionModel, tokenizer: ClipTokenizer): TextConditioner {
    return {
      learned: (prompts, steps, ctx) => getLearnedConditioning(prompts, steps, deps(model, tokenizer, ctx), ctx.schedule),
      multicond: (prompts, steps, ctx) => getMulticondLearnedConditioning(prompts, steps, deps(model, tokenizer, ctx), ctx.schedule),
    };
  },
};

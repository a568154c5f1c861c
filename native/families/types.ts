// The unit that varies between model families. A family module says how prompts become the UNet's
// conditioning (its text encoders, their outputs, extra vectors), what its latents are (channels,
// scale and shift factor), and which image sizes suit it. Everything else — checkpoint reading,
// the UNet and VAE graphs, samplers, CFG, img2img / inpaint / hires pipelines — is written once
// over this interface (native/pipelines/generate.ts). Adding SD2.x, SD3 or Flux means adding a
// module here (plus its graphs in native/models when they are new), not another pipeline.
import type { ModelConfig, SupportedFamily } from '../models/config.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';
import type { ClipTokenizer } from '../text/clip-tokenizer.js';
import type { EmbeddingLookup } from '../text/chunking.js';
import type { ComposablePart, ScheduledConditioning } from '../text/conditioning.js';
import type { ScheduleOptions } from '../text/prompt-schedule.js';

/** What conditioning depends on besides the prompt. */
export interface ConditioningContext {
  /** A1111 "Clip skip" (SD1; SDXL ignores it as A1111 does by default). */
  clipSkip: number;
  /** Textual-inversion embeddings the prompts may name. */
  embeddings?: EmbeddingLookup;
  /** The image's size in pixels (SDXL size conditioning). */
  width: number;
  height: number;
  /** Prompt-editing schedule options (the hires pass counts `hiresSteps`). */
  schedule?: ScheduleOptions;
}

/** A family's `get_learned_conditioning` / `get_multicond_learned_conditioning`. */
export interface TextConditioner {
  /** Negative prompts (`isNegative`) may be encoded differently (SDXL: empty ones become zeros). */
  learned(prompts: readonly string[], steps: number, ctx: ConditioningContext & { isNegative?: boolean }): Promise<ScheduledConditioning[][]>;
  multicond(prompts: readonly string[], steps: number, ctx: ConditioningContext): Promise<ComposablePart[][]>;
}

/** How latents relate to VAE outputs: z_model = (z_vae − shift) · scale. */
export interface LatentFormat {
  channels: number;
  scaleFactor: number;
  /** 0 for SD1.x and SDXL (SD3 / Flux latents have a shift). */
  shiftFactor: number;
  /** Image pixels per latent pixel. */
  downscale: number;
}

export interface FamilyModule {
  readonly id: SupportedFamily;
  /** Display name ("SD 1.x", "SDXL"). */
  readonly label: string;
  /** A1111's default size for the family. */
  readonly defaultSize: { width: number; height: number };
  /** Width × height presets the PWA offers for this family. */
  readonly sizePresets: readonly (readonly [number, number])[];
  latentFormat(config: ModelConfig): LatentFormat;
  /** The prompt encoder over a loaded model's text encoder(s). */
  conditioner(model: DiffusionModel, tokenizer: ClipTokenizer): TextConditioner;
}

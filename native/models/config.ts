// Model families and the SD1.x architecture config. Field names follow the ldm / transformers
// configs exactly as written in the `sd_tiny.config` JSON that tiny checkpoints carry in their
// safetensors `__metadata__` (see ../shared/fixtures/sd1-tiny/README.md §1), so that JSON can be
// read without renaming.

/** 'sd2-v' is SD2.x with v-prediction: keys alone cannot tell it from eps 'sd2' (see family.ts). */
export type ModelFamily = 'sd1' | 'sd2' | 'sd2-v' | 'sdxl' | 'unknown';

export interface UNetConfig {
  in_channels: number;
  out_channels: number;
  model_channels: number;
  /** Downsampling factors (1, 2, 4, ...) of the levels that carry a SpatialTransformer, as ldm writes them. */
  attention_resolutions: number[];
  num_res_blocks: number;
  channel_mult: number[];
  num_heads: number;
  /** SD2 style fixed head width; when set it wins over num_heads. Absent for SD1. */
  num_head_channels?: number;
  transformer_depth: number;
  context_dim: number;
  use_linear_in_transformer: boolean;
  legacy: boolean;
}

export interface VaeConfig {
  ch: number;
  ch_mult: number[];
  num_res_blocks: number;
  z_channels: number;
  embed_dim: number;
  in_channels: number;
  out_ch: number;
  double_z: boolean;
}

export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  bos_token_id: number;
  eos_token_id: number;
}

export interface ScheduleConfig {
  linear_start: number;
  linear_end: number;
  timesteps: number;
}

export interface SD1Config {
  unet: UNetConfig;
  vae: VaeConfig;
  clip_text: ClipTextConfig;
  scale_factor: number;
  parameterization: 'eps' | 'v';
  schedule: ScheduleConfig;
}

/** Where a checkpoint's explicit config lives in its safetensors `__metadata__`. */
export const CONFIG_METADATA_KEY = 'sd_tiny.config';

/** What tensor shapes cannot tell, with the SD1.x values (A1111 `v1-inference.yaml`, CLIP ViT-L/14). */
export const SD1_DEFAULTS = {
  unetNumHeads: 8,
  clipHeadDim: 64,
  clipHiddenAct: 'quick_gelu',
  clipLayerNormEps: 1e-5,
  bosTokenId: 49406,
  eosTokenId: 49407,
  scaleFactor: 0.18215,
  parameterization: 'eps',
  schedule: { linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 },
  legacy: false,
} as const;

/** The full-size SD1.5 config (what inference gives for a real SD1.5 file). */
export const SD15_CONFIG: SD1Config = {
  unet: {
    in_channels: 4,
    out_channels: 4,
    model_channels: 320,
    attention_resolutions: [4, 2, 1],
    num_res_blocks: 2,
    channel_mult: [1, 2, 4, 4],
    num_heads: 8,
    transformer_depth: 1,
    context_dim: 768,
    use_linear_in_transformer: false,
    legacy: false,
  },
  vae: { ch: 128, ch_mult: [1, 2, 4, 4], num_res_blocks: 2, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, double_z: true },
  clip_text: {
    vocab_size: 49408,
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    max_position_embeddings: 77,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    bos_token_id: 49406,
    eos_token_id: 49407,
  },
  scale_factor: 0.18215,
  parameterization: 'eps',
  schedule: { linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 },
};

/** The tiny topology of ../shared/fixtures/sd1-tiny (and of `scripts/make-tiny-checkpoint.ts`). */
export const SD1_TINY_CONFIG: SD1Config = {
  ...SD15_CONFIG,
  unet: { ...SD15_CONFIG.unet, model_channels: 32, context_dim: 32 },
  vae: { ...SD15_CONFIG.vae, ch: 32 },
  clip_text: { ...SD15_CONFIG.clip_text, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3, num_attention_heads: 4 },
};

/** Head count and width of a UNet SpatialTransformer with `channels` channels. */
export function unetHeads(unet: UNetConfig, channels: number): { heads: number; headDim: number } {
  if (unet.num_head_channels !== undefined && unet.num_head_channels > 0) {
    return { heads: channels / unet.num_head_channels, headDim: unet.num_head_channels };
  }
  return { heads: unet.num_heads, headDim: channels / unet.num_heads };
}

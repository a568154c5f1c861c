// Model families and their architecture configs (SD1.x, SDXL). Field names follow the ldm / transformers
// configs exactly as written in the `sd_tiny.config` JSON that tiny checkpoints carry in their
// safetensors `__metadata__` (see ../shared/fixtures/sd1-tiny/README.md §1), so that JSON can be
// read without renaming.

/** 'sd2-v' is SD2.x with v-prediction: keys alone cannot tell it from eps 'sd2' (see family.ts). */
export type ModelFamily = 'sd1' | 'sd2' | 'sd2-v' | 'sdxl' | 'sd3' | 'flux' | 'unknown';

/** The families this engine runs (each has a module in native/families/). */
export type SupportedFamily = 'sd1' | 'sdxl';

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
  /** One depth for every level (SD1/SD2) or one per level (SDXL: [1, 2, 10], the level-0 entry unused). */
  transformer_depth: number | number[];
  /** Depth of the middle block's transformer; default: the last level's depth (sgm). */
  transformer_depth_middle?: number;
  context_dim: number;
  /** Width of the ADM `vector` input (SDXL: 2816); absent for UNets without `label_emb`. */
  adm_in_channels?: number;
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
  /** Absent in SD1 configs written before families existed; 'sd1' otherwise. */
  family?: 'sd1';
  unet: UNetConfig;
  vae: VaeConfig;
  clip_text: ClipTextConfig;
  scale_factor: number;
  parameterization: 'eps' | 'v';
  schedule: ScheduleConfig;
}

/** SDXL's CLIP ViT-L text encoder: a CLIPTextModel read at `hidden_states[layer_idx]` (no final LayerNorm). */
export interface SdxlClipLConfig extends ClipTextConfig {
  /** transformers hidden_states index sgm reads (SDXL: 11 of 12 = the penultimate layer). */
  layer_idx: number;
}

/** The open_clip text tower (SDXL's OpenCLIP ViT-bigG/14), with open_clip's own field names. */
export interface OpenClipTextConfig {
  vocab_size: number;
  width: number;
  heads: number;
  layers: number;
  context_length: number;
  /** Width of `text_projection` (the pooled embedding). */
  embed_dim: number;
  mlp_ratio: number;
  layer_norm_eps: number;
}

/** An SDXL base (or 9-channel SDXL inpainting) model: two text encoders, ADM size conditioning. */
export interface SDXLConfig {
  family: 'sdxl';
  unet: UNetConfig;
  vae: VaeConfig;
  clip_l: SdxlClipLConfig;
  open_clip: OpenClipTextConfig;
  scale_factor: number;
  parameterization: 'eps' | 'v';
  schedule: ScheduleConfig;
}

/** The config of any family the engine runs; `family` tells them apart. */
export type ModelConfig = SD1Config | SDXLConfig;

export function isSdxlConfig(c: ModelConfig): c is SDXLConfig {
  return c.family === 'sdxl';
}

/** Transformer depth of a UNet level (index into channel_mult). */
export function transformerDepthAt(unet: UNetConfig, level: number): number {
  const d = unet.transformer_depth;
  return typeof d === 'number' ? d : d[level]!;
}

/** Transformer depth of the UNet middle block (sgm: the last level's unless given). */
export function middleTransformerDepth(unet: UNetConfig): number {
  const d = unet.transformer_depth;
  return unet.transformer_depth_middle ?? (typeof d === 'number' ? d : d[d.length - 1]!);
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

/** What SDXL tensors cannot tell, with the SDXL base values (sgm `sd_xl_base.yaml`). */
export const SDXL_DEFAULTS = {
  unetHeadChannels: 64,
  clipLHeadDim: 64,
  /** CLIP-L hidden_states index: layer 11 of 12, i.e. the second to last. */
  clipLLayerFromEnd: 1,
  openClipHeadDim: 64,
  scaleFactor: 0.13025,
} as const;

/** The full-size SDXL base 1.0 config (what inference gives for `sd_xl_base_1.0.safetensors`). */
export const SDXL_BASE_CONFIG: SDXLConfig = {
  family: 'sdxl',
  unet: {
    in_channels: 4,
    out_channels: 4,
    model_channels: 320,
    attention_resolutions: [4, 2],
    num_res_blocks: 2,
    channel_mult: [1, 2, 4],
    num_heads: 5,
    num_head_channels: 64,
    transformer_depth: [1, 2, 10],
    transformer_depth_middle: 10,
    context_dim: 2048,
    adm_in_channels: 2816,
    use_linear_in_transformer: true,
    legacy: false,
  },
  vae: { ch: 128, ch_mult: [1, 2, 4, 4], num_res_blocks: 2, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, double_z: true },
  clip_l: { ...SD15_CONFIG.clip_text, layer_idx: 11 },
  open_clip: { vocab_size: 49408, width: 1280, heads: 20, layers: 32, context_length: 77, embed_dim: 1280, mlp_ratio: 4, layer_norm_eps: 1e-5 },
  scale_factor: 0.13025,
  parameterization: 'eps',
  schedule: { linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 },
};

/** The CLIP-L text model of any family (SD1's only encoder, SDXL's first). */
export function clipLConfig(c: ModelConfig): ClipTextConfig {
  return c.family === 'sdxl' ? c.clip_l : c.clip_text;
}

// SDXL architecture config from tensor shapes, with sgm `sd_xl_base.yaml` values for what shapes
// cannot tell, and the explicit `sd_tiny.config` JSON of a checkpoint's `__metadata__` (sdxl-tiny
// README §1: sections `unet`, `vae`, `conditioner.embedders.0` / `.1`) winning over both.
//
// Shape rules beyond the shared UNet/VAE/CLIP ones of infer-config.ts:
//   UNet      transformer depth per level and in the middle block <- transformer_blocks.j counts
//             adm_in_channels <- label_emb.0.0.weight [4mc, adm]
//   OpenCLIP  vocab, width <- token_embedding; context <- positional_embedding; layers <- resblocks.i;
//             mlp_ratio <- mlp.c_fc [W·r, W]; embed_dim <- text_projection [W, E]
// Defaults: UNet num_head_channels 64, CLIP-L / OpenCLIP head width 64, CLIP-L read at
// hidden_states[layers − 1] (sgm layer "hidden", layer_idx 11 of 12), scale factor 0.13025.
import { CheckpointError } from './checkpoint-error.js';
import { CONFIG_METADATA_KEY, SD1_DEFAULTS, SDXL_DEFAULTS, type OpenClipTextConfig, type SDXLConfig } from './config.js';
import { inferClipFromShapes, inferUNetFromShapes, inferVaeFromShapes, parseDeclaredConfig, type DeepPartial, type ShapeLookup } from './infer-config.js';
import { SDXL_CLIP_L_PREFIX, SDXL_OPEN_CLIP_PREFIX } from './key-spec.js';

export interface InferSdxlOptions {
  metadata?: Record<string, string>;
  overrides?: DeepPartial<SDXLConfig>;
}

/** Example: `inferSdxlConfig((k) => file.info(k)?.shape, { metadata: file.metadata })`. */
export function inferSdxlConfig(shape: ShapeLookup, opts: InferSdxlOptions = {}): SDXLConfig {
  const inferred = inferSdxlFromShapes(shape);
  let config = opts.overrides ? mergeSdxlConfig(inferred, opts.overrides) : inferred;
  const declared = opts.metadata?.[CONFIG_METADATA_KEY];
  if (declared !== undefined) config = mergeSdxlConfig(config, parseDeclaredSdxlConfig(declared));
  checkSdxlAgainstShapes(config, inferred);
  return config;
}

function openClipFromShapes(shape: ShapeLookup): OpenClipTextConfig {
  const p = SDXL_OPEN_CLIP_PREFIX;
  const need = (key: string): number[] => {
    const s = shape(key);
    if (!s) throw new CheckpointError('missing_key', `cannot infer the OpenCLIP config: key "${key}" is missing`);
    return s;
  };
  const [vocab, width] = need(`${p}token_embedding.weight`);
  const [context] = need(`${p}positional_embedding`);
  let layers = 0;
  while (shape(`${p}transformer.resblocks.${layers}.attn.in_proj_weight`)) layers++;
  const [hidden] = need(`${p}transformer.resblocks.0.mlp.c_fc.weight`);
  const [, embed] = need(`${p}text_projection`);
  return {
    vocab_size: vocab,
    width,
    heads: Math.max(1, Math.floor(width / SDXL_DEFAULTS.openClipHeadDim)),
    layers,
    context_length: context,
    embed_dim: embed,
    mlp_ratio: hidden / width,
    layer_norm_eps: SD1_DEFAULTS.clipLayerNormEps,
  };
}

/** The config implied by shapes and SDXL defaults alone. */
export function inferSdxlFromShapes(shape: ShapeLookup): SDXLConfig {
  const { config: unet } = inferUNetFromShapes(shape);
  if (unet.adm_in_channels === undefined) throw new CheckpointError('missing_key', 'cannot infer the SDXL config: the UNet has no label_emb (ADM) weights');
  const clip = inferClipFromShapes(shape, SDXL_CLIP_L_PREFIX);
  return {
    family: 'sdxl',
    unet: { ...unet, num_head_channels: SDXL_DEFAULTS.unetHeadChannels, num_heads: Math.max(1, unet.model_channels / SDXL_DEFAULTS.unetHeadChannels) },
    vae: inferVaeFromShapes(shape),
    clip_l: { ...clip, layer_idx: clip.num_hidden_layers - SDXL_DEFAULTS.clipLLayerFromEnd },
    open_clip: openClipFromShapes(shape),
    scale_factor: SDXL_DEFAULTS.scaleFactor,
    parameterization: 'eps',
    schedule: { ...SD1_DEFAULTS.schedule },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `sd_tiny.config` of an SDXL file: the shared sections plus the conditioner's two embedders. */
export function parseDeclaredSdxlConfig(json: string): DeepPartial<SDXLConfig> {
  const raw = JSON.parse(json) as unknown;
  if (!isRecord(raw)) throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY} must be a JSON object`);
  // The shared parser knows unet (scalar depth only), vae, schedule, scale and parameterization.
  const unetRaw = isRecord(raw.unet) ? raw.unet : {};
  const { transformer_depth: depth, transformer_depth_middle: middle, adm_in_channels: adm, ...unetRest } = unetRaw;
  const base = parseDeclaredConfig(JSON.stringify({ ...raw, unet: unetRest, clip_text: undefined }));
  const out: DeepPartial<SDXLConfig> = { unet: base.unet, vae: base.vae, schedule: base.schedule };
  if (base.scale_factor !== undefined) out.scale_factor = base.scale_factor;
  if (base.parameterization !== undefined) out.parameterization = base.parameterization;
  const unet = (out.unet ??= {});
  if (Array.isArray(depth) && depth.every((d) => typeof d === 'number')) unet.transformer_depth = depth as number[];
  else if (typeof depth === 'number') unet.transformer_depth = depth as unknown as number[];
  if (typeof middle === 'number') unet.transformer_depth_middle = middle;
  if (typeof adm === 'number') unet.adm_in_channels = adm;
  const cond = isRecord(raw.conditioner) ? raw.conditioner : {};
  const e0 = cond['embedders.0'];
  if (isRecord(e0)) {
    const c = parseDeclaredConfig(JSON.stringify({ clip_text: e0 })).clip_text ?? {};
    out.clip_l = { ...c, ...(typeof e0.layer_idx === 'number' ? { layer_idx: e0.layer_idx } : {}) };
  }
  const e1 = cond['embedders.1'];
  if (isRecord(e1)) {
    const o: DeepPartial<OpenClipTextConfig> = {};
    const n = (k: string): number | undefined => (typeof e1[k] === 'number' ? (e1[k] as number) : undefined);
    if (n('heads') !== undefined) o.heads = n('heads');
    if (n('width') !== undefined) o.width = n('width');
    if (n('layers') !== undefined) o.layers = n('layers');
    if (n('mlp_ratio') !== undefined) o.mlp_ratio = n('mlp_ratio');
    if (n('embed_dim') !== undefined) o.embed_dim = n('embed_dim');
    if (n('context_length') !== undefined) o.context_length = n('context_length');
    if (n('layer_norm_eps') !== undefined) o.layer_norm_eps = n('layer_norm_eps');
    if (n('vocab_size') !== undefined) o.vocab_size = n('vocab_size');
    out.open_clip = o;
  }
  return out;
}

/** Section-wise merge: `over`'s defined fields replace `base`'s. */
export function mergeSdxlConfig(base: SDXLConfig, over: DeepPartial<SDXLConfig>): SDXLConfig {
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    family: 'sdxl',
    unet: { ...base.unet, ...defined(over.unet as Partial<SDXLConfig['unet']>) },
    vae: { ...base.vae, ...defined(over.vae as Partial<SDXLConfig['vae']>) },
    clip_l: { ...base.clip_l, ...defined(over.clip_l as Partial<SDXLConfig['clip_l']>) },
    open_clip: { ...base.open_clip, ...defined(over.open_clip as Partial<SDXLConfig['open_clip']>) },
    schedule: { ...base.schedule, ...defined(over.schedule as Partial<SDXLConfig['schedule']>) },
    scale_factor: over.scale_factor ?? base.scale_factor,
    parameterization: over.parameterization ?? base.parameterization,
  };
}

// What the tensors fix; a declared config that disagrees describes another model.
function checkSdxlAgainstShapes(config: SDXLConfig, shapes: SDXLConfig): void {
  const attnLevels = shapes.unet.channel_mult.map((_, i) => i).filter((i) => shapes.unet.attention_resolutions.includes(2 ** i));
  const depths = (c: SDXLConfig) => attnLevels.map((l) => (typeof c.unet.transformer_depth === 'number' ? c.unet.transformer_depth : c.unet.transformer_depth[l]));
  const checks: [string, unknown, unknown][] = [
    ['unet.in_channels', config.unet.in_channels, shapes.unet.in_channels],
    ['unet.model_channels', config.unet.model_channels, shapes.unet.model_channels],
    ['unet.channel_mult', config.unet.channel_mult, shapes.unet.channel_mult],
    ['unet.num_res_blocks', config.unet.num_res_blocks, shapes.unet.num_res_blocks],
    ['unet.attention_resolutions', [...config.unet.attention_resolutions].sort(), [...shapes.unet.attention_resolutions].sort()],
    ['unet.transformer_depth (attention levels)', depths(config), depths(shapes)],
    ['unet.transformer_depth_middle', config.unet.transformer_depth_middle, shapes.unet.transformer_depth_middle],
    ['unet.context_dim', config.unet.context_dim, shapes.unet.context_dim],
    ['unet.adm_in_channels', config.unet.adm_in_channels, shapes.unet.adm_in_channels],
    ['vae.ch', config.vae.ch, shapes.vae.ch],
    ['vae.ch_mult', config.vae.ch_mult, shapes.vae.ch_mult],
    ['clip_l.hidden_size', config.clip_l.hidden_size, shapes.clip_l.hidden_size],
    ['clip_l.num_hidden_layers', config.clip_l.num_hidden_layers, shapes.clip_l.num_hidden_layers],
    ['open_clip.width', config.open_clip.width, shapes.open_clip.width],
    ['open_clip.layers', config.open_clip.layers, shapes.open_clip.layers],
    ['open_clip.embed_dim', config.open_clip.embed_dim, shapes.open_clip.embed_dim],
  ];
  for (const [field, declared, actual] of checks) {
    if (JSON.stringify(declared) !== JSON.stringify(actual)) {
      throw new CheckpointError('config_mismatch', `declared config ${field} = ${JSON.stringify(declared)} but the tensors give ${JSON.stringify(actual)}`);
    }
  }
  const { layer_idx: idx, num_hidden_layers: n } = config.clip_l;
  if (!Number.isInteger(idx) || idx < 1 || idx > n) throw new CheckpointError('bad_config', `clip_l.layer_idx must be 1..${n}, got ${idx}`);
  for (const [what, w, h] of [['clip_l', config.clip_l.hidden_size, config.clip_l.num_attention_heads], ['open_clip', config.open_clip.width, config.open_clip.heads]] as const) {
    if (w % h !== 0) throw new CheckpointError('bad_config', `${what} width ${w} is not divisible by its ${h} heads`);
  }
}

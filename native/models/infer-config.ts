// SD1.x architecture config from tensor shapes, with SD1 defaults for what shapes cannot tell,
// and the explicit `sd_tiny.config` JSON from a checkpoint's `__metadata__` winning over both.
//
// Shape rules (ldm UNetModel / AutoencoderKL, transformers CLIPTextModel):
//   UNet  model_channels, in_channels  <- input_blocks.0.0.weight [mc, in, 3, 3]
//         levels / num_res_blocks     <- input_blocks.i.0 is a ResBlock (in_layers) or a Downsample (op)
//         channel_mult                <- each level's ResBlock width / mc
//         attention_resolutions       <- levels whose ResBlocks are followed by input_blocks.i.1 (ds = 2^level)
//         transformer_depth           <- number of transformer_blocks.j in the first SpatialTransformer
//         context_dim                 <- attn2.to_k.weight [inner, context_dim]
//         use_linear_in_transformer   <- proj_in.weight rank (2 = Linear, 4 = 1x1 conv)
//   VAE   ch, in_channels <- encoder.conv_in; ch_mult / num_res_blocks <- encoder.down.l.block.j;
//         z_channels <- decoder.conv_in; embed_dim <- post_quant_conv; double_z <- encoder.conv_out
//   CLIP  vocab/hidden <- token_embedding; positions <- position_embedding; layers; fc1 -> intermediate
// Defaults (SD1): UNet 8 heads, CLIP head width 64, quick_gelu, eps-prediction, scale 0.18215,
// schedule 0.00085..0.012 over 1000 steps.
import { CheckpointError } from './checkpoint-error.js';
import { CONFIG_METADATA_KEY, SD1_DEFAULTS, type ClipTextConfig, type SD1Config, type UNetConfig, type VaeConfig } from './config.js';
import { CLIP_L_PREFIX, UNET_PREFIX, VAE_PREFIX } from './family.js';

/** Shape of a key in original single-file naming, or undefined when absent. */
export type ShapeLookup = (key: string) => number[] | undefined;

export interface InferOptions {
  /** The safetensors `__metadata__`; its `sd_tiny.config` wins over inferred values. */
  metadata?: Record<string, string>;
  /** Values from elsewhere (diffusers config files, user overrides); below the metadata config. */
  overrides?: DeepPartial<SD1Config>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Example: `inferSd1Config((k) => file.info(k)?.shape, { metadata: file.metadata })`. */
export function inferSd1Config(shape: ShapeLookup, opts: InferOptions = {}): SD1Config {
  const inferred = inferFromShapes(shape);
  let config = opts.overrides ? mergeConfig(inferred, opts.overrides) : inferred;
  const declared = opts.metadata?.[CONFIG_METADATA_KEY];
  if (declared !== undefined) config = mergeConfig(config, parseDeclaredConfig(declared));
  checkAgainstShapes(config, inferred);
  return config;
}

/** The config implied by shapes and SD1 defaults alone (no metadata). */
export function inferFromShapes(shape: ShapeLookup): SD1Config {
  const unet = inferUNetFromShapes(shape);
  // SD1/SD2 configs have one depth for every transformer, the middle block's included.
  const { transformer_depth_middle: _middle, ...sd1Unet } = unet.config;
  return {
    unet: { ...sd1Unet, num_heads: SD1_DEFAULTS.unetNumHeads, transformer_depth: unet.firstDepth },
    vae: inferVaeFromShapes(shape),
    clip_text: inferClipFromShapes(shape, CLIP_L_PREFIX),
    scale_factor: SD1_DEFAULTS.scaleFactor,
    parameterization: SD1_DEFAULTS.parameterization,
    schedule: { ...SD1_DEFAULTS.schedule },
  };
}

function needFn(shape: ShapeLookup, what: string): (key: string) => number[] {
  return (key) => {
    const s = shape(key);
    if (!s) throw new CheckpointError('missing_key', `cannot infer the ${what} config: key "${key}" is missing`);
    return s;
  };
}

export interface InferredUNet {
  /** num_heads is a placeholder (shapes cannot tell); transformer_depth is per level (1 where a level has no attention). */
  config: UNetConfig;
  /** Depth of the first SpatialTransformer (SD1/SD2's single depth). */
  firstDepth: number;
}

/** The ldm / sgm UNet's structure from its tensor shapes (any family). */
export function inferUNetFromShapes(shape: ShapeLookup): InferredUNet {
  const need = needFn(shape, 'UNet');
  const u = UNET_PREFIX;
  const [mc, inCh] = need(`${u}input_blocks.0.0.weight`);
  const [outCh] = need(`${u}out.2.weight`);

  // Walk the input blocks: ResBlocks, a Downsample closes a level.
  const levels: { width: number; resBlocks: number; attention: string | undefined }[] = [{ width: 0, resBlocks: 0, attention: undefined }];
  for (let i = 1; ; i++) {
    const res = shape(`${u}input_blocks.${i}.0.in_layers.2.weight`);
    const down = shape(`${u}input_blocks.${i}.0.op.weight`);
    if (!res && !down) break;
    const level = levels[levels.length - 1];
    if (down) {
      levels.push({ width: 0, resBlocks: 0, attention: undefined });
      continue;
    }
    level.width = res![0];
    level.resBlocks++;
    if (shape(`${u}input_blocks.${i}.1.norm.weight`)) level.attention ??= `${u}input_blocks.${i}.1`;
  }
  const numRes = levels[0].resBlocks;
  if (numRes === 0 || levels.some((l) => l.resBlocks !== numRes)) {
    throw new CheckpointError('bad_config', `UNet levels have different ResBlock counts: ${levels.map((l) => l.resBlocks).join(', ')}`);
  }
  const depthOf = (block: string): number => {
    let depth = 0;
    while (shape(`${block}.transformer_blocks.${depth}.norm1.weight`)) depth++;
    return depth;
  };
  const mid = `${u}middle_block.1`;
  const attnBlock = levels.find((l) => l.attention)?.attention ?? mid;
  const [, contextDim] = need(`${attnBlock}.transformer_blocks.0.attn2.to_k.weight`);
  const projInRank = need(`${attnBlock}.proj_in.weight`).length;
  const adm = shape(`${u}label_emb.0.0.weight`);
  const config: UNetConfig = {
    in_channels: inCh,
    out_channels: outCh,
    model_channels: mc,
    attention_resolutions: levels.map((l, i) => (l.attention ? 2 ** i : 0)).filter((d) => d > 0).reverse(),
    num_res_blocks: numRes,
    channel_mult: levels.map((l) => l.width / mc),
    num_heads: SD1_DEFAULTS.unetNumHeads,
    transformer_depth: levels.map((l) => (l.attention ? depthOf(l.attention) : 1)),
    transformer_depth_middle: depthOf(mid),
    context_dim: contextDim,
    use_linear_in_transformer: projInRank === 2,
    legacy: SD1_DEFAULTS.legacy,
  };
  if (adm) config.adm_in_channels = adm[1];
  return { config, firstDepth: depthOf(attnBlock) };
}

/** The AutoencoderKL's structure from its tensor shapes. */
export function inferVaeFromShapes(shape: ShapeLookup): VaeConfig {
  const need = needFn(shape, 'VAE');
  const v = VAE_PREFIX;
  const [ch, vaeIn] = need(`${v}encoder.conv_in.weight`);
  const chMult: number[] = [];
  let vaeRes = 0;
  for (let l = 0; shape(`${v}encoder.down.${l}.block.0.conv1.weight`); l++) {
    chMult.push(need(`${v}encoder.down.${l}.block.0.conv1.weight`)[0] / ch);
    let j = 0;
    while (shape(`${v}encoder.down.${l}.block.${j}.conv1.weight`)) j++;
    if (l === 0) vaeRes = j;
  }
  if (chMult.length === 0) throw new CheckpointError('missing_key', `cannot infer the VAE config: no ${v}encoder.down.0.block.0 keys`);
  const [, zCh] = need(`${v}decoder.conv_in.weight`);
  const [encOut] = need(`${v}encoder.conv_out.weight`);
  const [outRgb] = need(`${v}decoder.conv_out.weight`);
  const [, embedDim] = need(`${v}post_quant_conv.weight`);
  return { ch, ch_mult: chMult, num_res_blocks: vaeRes, z_channels: zCh, embed_dim: embedDim, in_channels: vaeIn, out_ch: outRgb, double_z: encOut === 2 * zCh };
}

/** A transformers CLIPTextModel under `prefix`, with SD1's defaults for what shapes cannot tell. */
export function inferClipFromShapes(shape: ShapeLookup, prefix: string): ClipTextConfig {
  const need = needFn(shape, 'CLIP text');
  const c = prefix;
  const [vocab, hidden] = need(`${c}embeddings.token_embedding.weight`);
  const [maxPos] = need(`${c}embeddings.position_embedding.weight`);
  let layers = 0;
  while (shape(`${c}encoder.layers.${layers}.self_attn.q_proj.weight`)) layers++;
  const [inter] = need(`${c}encoder.layers.0.mlp.fc1.weight`);
  return {
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: Math.max(1, Math.floor(hidden / SD1_DEFAULTS.clipHeadDim)),
    max_position_embeddings: maxPos,
    hidden_act: SD1_DEFAULTS.clipHiddenAct,
    layer_norm_eps: SD1_DEFAULTS.clipLayerNormEps,
    bos_token_id: SD1_DEFAULTS.bosTokenId,
    eos_token_id: SD1_DEFAULTS.eosTokenId,
  };
}

/** Only the `parameterization` of a declared config (read before the family, hence before its parser). */
export function declaredParameterization(json: string): 'eps' | 'v' | undefined {
  try {
    const raw: unknown = JSON.parse(json);
    const p = isRecord(raw) ? raw.parameterization : undefined;
    return p === 'eps' || p === 'v' ? p : undefined;
  } catch {
    throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY} is not valid JSON`);
  }
}

/**
 * Parses `sd_tiny.config` and keeps only the fields SD1Config knows (the JSON also carries
 * informational ones such as `use_spatial_transformer` or `beta_schedule`).
 */
export function parseDeclaredConfig(json: string): DeepPartial<SD1Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(raw)) throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY} must be a JSON object`);
  const out: DeepPartial<SD1Config> = {};
  const pick = <T extends object>(section: unknown, fields: Record<string, 'number' | 'boolean' | 'string' | 'numbers'>, name: string): DeepPartial<T> | undefined => {
    if (section === undefined) return undefined;
    if (!isRecord(section)) throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY}.${name} must be an object`);
    const r: Record<string, unknown> = {};
    for (const [f, kind] of Object.entries(fields)) {
      const value = section[f];
      if (value === undefined || value === null) continue;
      const ok = kind === 'numbers' ? Array.isArray(value) && value.every((x) => typeof x === 'number') : typeof value === kind;
      if (!ok) throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY}.${name}.${f} must be ${kind}, got ${JSON.stringify(value)}`);
      r[f] = value;
    }
    return r as DeepPartial<T>;
  };
  const unet = pick<SD1Config['unet']>(raw.unet, UNET_FIELDS, 'unet');
  if (unet) out.unet = unet;
  const vae = pick<SD1Config['vae']>(raw.vae, VAE_FIELDS, 'vae');
  if (vae) out.vae = vae;
  const clip = pick<SD1Config['clip_text']>(raw.clip_text, CLIP_FIELDS, 'clip_text');
  if (clip) {
    if (clip.hidden_act !== undefined && clip.hidden_act !== 'quick_gelu' && clip.hidden_act !== 'gelu') {
      throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY}.clip_text.hidden_act must be quick_gelu or gelu, got ${clip.hidden_act}`);
    }
    out.clip_text = clip;
  }
  const schedule = pick<SD1Config['schedule']>(raw.schedule, { linear_start: 'number', linear_end: 'number', timesteps: 'number' }, 'schedule');
  if (schedule) out.schedule = schedule;
  if (typeof raw.scale_factor === 'number') out.scale_factor = raw.scale_factor;
  if (raw.parameterization !== undefined) {
    if (raw.parameterization !== 'eps' && raw.parameterization !== 'v') {
      throw new CheckpointError('bad_config', `${CONFIG_METADATA_KEY}.parameterization must be eps or v, got ${JSON.stringify(raw.parameterization)}`);
    }
    out.parameterization = raw.parameterization;
  }
  // ldm writes num_head_channels: -1 for "use num_heads"
  if (out.unet?.num_head_channels !== undefined && out.unet.num_head_channels <= 0) delete out.unet.num_head_channels;
  return out;
}

const UNET_FIELDS = {
  in_channels: 'number',
  out_channels: 'number',
  model_channels: 'number',
  attention_resolutions: 'numbers',
  num_res_blocks: 'number',
  channel_mult: 'numbers',
  num_heads: 'number',
  num_head_channels: 'number',
  transformer_depth: 'number',
  context_dim: 'number',
  use_linear_in_transformer: 'boolean',
  legacy: 'boolean',
} as const;
const VAE_FIELDS = {
  ch: 'number',
  ch_mult: 'numbers',
  num_res_blocks: 'number',
  z_channels: 'number',
  embed_dim: 'number',
  in_channels: 'number',
  out_ch: 'number',
  double_z: 'boolean',
} as const;
const CLIP_FIELDS = {
  vocab_size: 'number',
  hidden_size: 'number',
  intermediate_size: 'number',
  num_hidden_layers: 'number',
  num_attention_heads: 'number',
  max_position_embeddings: 'number',
  hidden_act: 'string',
  layer_norm_eps: 'number',
  bos_token_id: 'number',
  eos_token_id: 'number',
} as const;

/** Section-wise merge: `over`'s defined fields replace `base`'s. */
export function mergeConfig(base: SD1Config, over: DeepPartial<SD1Config>): SD1Config {
  return {
    unet: { ...base.unet, ...(over.unet as Partial<SD1Config['unet']>) },
    vae: { ...base.vae, ...(over.vae as Partial<SD1Config['vae']>) },
    clip_text: { ...base.clip_text, ...(over.clip_text as Partial<SD1Config['clip_text']>) },
    schedule: { ...base.schedule, ...(over.schedule as Partial<SD1Config['schedule']>) },
    scale_factor: over.scale_factor ?? base.scale_factor,
    parameterization: over.parameterization ?? base.parameterization,
  };
}

// Fields that the tensors themselves fix: a declared config that disagrees describes another
// model, and building a graph from it would fail much later with a less useful message.
function checkAgainstShapes(config: SD1Config, fromShapes: SD1Config): void {
  const checks: [string, unknown, unknown][] = [
    ['unet.in_channels', config.unet.in_channels, fromShapes.unet.in_channels],
    ['unet.out_channels', config.unet.out_channels, fromShapes.unet.out_channels],
    ['unet.model_channels', config.unet.model_channels, fromShapes.unet.model_channels],
    ['unet.channel_mult', config.unet.channel_mult, fromShapes.unet.channel_mult],
    ['unet.num_res_blocks', config.unet.num_res_blocks, fromShapes.unet.num_res_blocks],
    ['unet.attention_resolutions', [...config.unet.attention_resolutions].sort(), [...fromShapes.unet.attention_resolutions].sort()],
    ['unet.transformer_depth', config.unet.transformer_depth, fromShapes.unet.transformer_depth],
    ['unet.context_dim', config.unet.context_dim, fromShapes.unet.context_dim],
    ['unet.use_linear_in_transformer', config.unet.use_linear_in_transformer, fromShapes.unet.use_linear_in_transformer],
    ['vae.ch', config.vae.ch, fromShapes.vae.ch],
    ['vae.ch_mult', config.vae.ch_mult, fromShapes.vae.ch_mult],
    ['vae.num_res_blocks', config.vae.num_res_blocks, fromShapes.vae.num_res_blocks],
    ['vae.z_channels', config.vae.z_channels, fromShapes.vae.z_channels],
    ['vae.embed_dim', config.vae.embed_dim, fromShapes.vae.embed_dim],
    ['clip_text.hidden_size', config.clip_text.hidden_size, fromShapes.clip_text.hidden_size],
    ['clip_text.intermediate_size', config.clip_text.intermediate_size, fromShapes.clip_text.intermediate_size],
    ['clip_text.num_hidden_layers', config.clip_text.num_hidden_layers, fromShapes.clip_text.num_hidden_layers],
    ['clip_text.vocab_size', config.clip_text.vocab_size, fromShapes.clip_text.vocab_size],
  ];
  for (const [field, declared, actual] of checks) {
    if (JSON.stringify(declared) !== JSON.stringify(actual)) {
      throw new CheckpointError('config_mismatch', `declared config ${field} = ${JSON.stringify(declared)} but the tensors give ${JSON.stringify(actual)}`);
    }
  }
  const { hidden_size: h, num_attention_heads: heads } = config.clip_text;
  if (h % heads !== 0) throw new CheckpointError('bad_config', `clip_text.hidden_size ${h} is not divisible by num_attention_heads ${heads}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// The ldm / sgm UNetModel (SD1.x, SD2.x, SDXL) as an ONNX graph for one static request shape:
// x [B, 4, h, w], t [B] (float32, fractional allowed), context [B, 77·k, ctx] (and for SDXL the
// ADM vector y [B, adm]) -> eps [B, 4, h, w]. SDXL differs only in configuration: levels without
// attention, a transformer depth per level, heads from num_head_channels, linear proj_in/out, and
// `emb = time_embed(t_emb) + label_emb(y)`.
// The block layout follows openaimodel.py (input_blocks / middle_block / output_blocks with the
// same indices as the checkpoint keys). Skip connections use A1111's patch: when h and the skip
// differ in H×W (latents that are not multiples of 8, i.e. images not multiples of 64 px), h is
// resized to the skip's size with nearest interpolation before the concat; the Resize node exists
// only where the static shapes differ.
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { GraphError } from '../graph/graph-error.js';
import { conv2d, groupNorm, linear, silu } from '../graph/ops-nn.js';
import { cast, resizeNearest } from '../graph/ops-tensor.js';
import type { WinogradPolicy } from '../graph/ops-winograd.js';
import type { UNetConfig } from './config.js';
import { middleTransformerDepth, transformerDepthAt, unetHeads } from './config.js';
import { UNET_PREFIX } from './family.js';
import { unetKeys } from './key-spec.js';
import {
  RESBLOCK_NORM_EPS,
  UNET_NORM_GROUPS,
  downsample,
  projectedKV,
  resBlock,
  spatialTransformer,
  timestepEmbedding,
  upsample,
} from './unet-blocks.js';
import type { CrossAttentionKV } from './unet-blocks.js';

export interface UNetGraphOptions {
  batch: number;
  /** Latent height and width (image size / 8). */
  height: number;
  width: number;
  /** Context length: 77 per prompt chunk. */
  tokens: number;
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Key prefix; default `model.diffusion_model.`. */
  prefix?: string;
  /**
   * ControlNet: add one float32 input per skip connection and one for the middle block
   * (`controlResidualName(i)`, shaped as that tensor), added as sd-webui-controlnet's hooked forward
   * does: residual i to input block i's output where the decoder concatenates it, the last to the
   * middle block's output. Off by default, so the plain graph is unchanged.
   */
  controlResiduals?: boolean;
  /** Which ResBlock 3×3 convolutions run by Winograd (native/graph/ops-winograd.ts); undefined = all direct. */
  winograd?: WinogradPolicy;
  /**
   * Take every cross-attention layer's keys and values as inputs (`crossKVName(layer, 'k' | 'v')`,
   * [B, T, inner] float32) instead of `context`: they depend on the prompt only, so
   * `buildUNetContextGraph` computes them once per prompt rather than at every step. Off by default.
   */
  contextKV?: boolean;
}

export const UNET_INPUTS = { x: 'x', t: 't', context: 'context', y: 'y' } as const;
export const UNET_OUTPUT = 'eps';

/** Name of the UNet input (and context graph output) holding cross-attention layer `layer`'s keys or values. */
export function crossKVName(layer: string, which: 'k' | 'v'): string {
  return `${layer}.${which}`;
}

/**
 * The UNet's cross-attention layers (`<prefix>….transformer_blocks.d.attn2`) in graph order, from
 * the checkpoint key layout of `cfg` (key-spec.ts), with each layer's inner width.
 */
export function unetCrossAttentionLayers(cfg: UNetConfig, prefix: string = UNET_PREFIX): Array<{ layer: string; inner: number }> {
  const layers: Array<{ layer: string; inner: number }> = [];
  unetKeys(cfg, (key, shape) => {
    if (key.endsWith('.attn2.to_k.weight')) layers.push({ layer: prefix + key.slice(0, -'.to_k.weight'.length), inner: shape[0]! });
  });
  return layers;
}

export interface UNetContextGraphOptions {
  batch: number;
  tokens: number;
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Key prefix; default `model.diffusion_model.`. */
  prefix?: string;
}

/**
 * What the UNet's cross-attention layers make of the text context, for a UNet built with
 * `contextKV`: context [B, T, ctx] -> for every attn2 layer `crossKVName(layer, 'k')` =
 * context·to_kᵀ and `crossKVName(layer, 'v')` = context·to_vᵀ, [B, T, inner] float32. The same
 * products the plain UNet computes at every step, made once per prompt; the UNet graph then holds
 * neither weight.
 */
export function buildUNetContextGraph(cfg: UNetConfig, opts: UNetContextGraphOptions): BuiltGraph {
  const { batch, tokens } = opts;
  if (![batch, tokens].every((v) => Number.isInteger(v) && v > 0)) {
    throw new GraphError('graph_bad_config', `UNet context shape must be positive integers, got batch ${batch}, ${tokens} tokens`);
  }
  const g = new GraphBuilder({ name: `unet-context-b${batch}-t${tokens}`, precision: opts.precision, weightShape: opts.weightShape });
  const context = cast(g, g.input(UNET_INPUTS.context, 'float32', [batch, tokens, cfg.context_dim]), g.floatType);
  const project = projectedKV(g, context);
  for (const { layer, inner } of unetCrossAttentionLayers(cfg, opts.prefix ?? UNET_PREFIX)) {
    const { k, v } = project(layer, inner);
    g.output(cast(g, k, 'float32'), crossKVName(layer, 'k'));
    g.output(cast(g, v, 'float32'), crossKVName(layer, 'v'));
  }
  return g.build();
}

/** Name of ControlNet residual input `i` (0..skips-1: input blocks, skips: the middle block). */
export function controlResidualName(i: number): string {
  return `control_${String(i).padStart(2, '0')}`;
}

/** Builds the UNet for one (batch, latent size, context length). */
export function buildUNetGraph(cfg: UNetConfig, opts: UNetGraphOptions): BuiltGraph {
  const { batch, height, width, tokens } = opts;
  if (![batch, height, width, tokens].every((v) => Number.isInteger(v) && v > 0)) {
    throw new GraphError('graph_bad_config', `UNet shape must be positive integers, got batch ${batch}, ${height}×${width}, ${tokens} tokens`);
  }
  const p = opts.prefix ?? UNET_PREFIX;
  const mc = cfg.model_channels;
  const g = new GraphBuilder({
    name: `unet-b${batch}-${height}x${width}-t${tokens}${opts.controlResiduals ? '-cn' : ''}${opts.contextKV ? '-kv' : ''}`,
    precision: opts.precision,
    weightShape: opts.weightShape,
  });
  const xIn = g.input(UNET_INPUTS.x, 'float32', [batch, cfg.in_channels, height, width]);
  const tIn = g.input(UNET_INPUTS.t, 'float32', [batch]);
  const context: CrossAttentionKV = opts.contextKV
    ? (key, inner) => {
        const kv = (which: 'k' | 'v') => cast(g, g.input(crossKVName(key, which), 'float32', [batch, tokens, inner]), g.floatType);
        return { k: kv('k'), v: kv('v') };
      }
    : projectedKV(g, cast(g, g.input(UNET_INPUTS.context, 'float32', [batch, tokens, cfg.context_dim]), g.floatType));

  const { embAct } = unetTimeEmbedding(g, cfg, tIn, batch, p);
  const transformer = unetTransformer(g, cfg, context);
  const xCast = cast(g, xIn, g.floatType);
  let h: Value;
  const skips: Value[] = [];
  const wino = opts.winograd;
  h = unetInputBlocks(g, cfg, xCast, embAct, transformer, p, (out) => {
    skips.push(out);
    return out;
  }, wino);
  h = unetMiddleBlock(g, cfg, h, embAct, transformer, p, wino);
  if (opts.controlResiduals) {
    const residual = (i: number, like: Value): Value => cast(g, g.input(controlResidualName(i), 'float32', like.shape), g.floatType);
    const plain = skips.slice();
    plain.forEach((skip, i) => (skips[i] = g.op('Add', [skip, residual(i, skip)])));
    h = g.op('Add', [h, residual(plain.length, h)]);
  }

  let block = 0;
  let ds = 2 ** (cfg.channel_mult.length - 1);
  [...cfg.channel_mult].reverse().forEach((mult, i) => {
    const level = cfg.channel_mult.length - 1 - i;
    for (let r = 0; r <= cfg.num_res_blocks; r++) {
      const skip = skips.pop();
      if (!skip) throw new GraphError('graph_bad_config', 'UNet skip stack exhausted: channel_mult/num_res_blocks inconsistent');
      // A1111 sd_hijack_unet: resize h to the skip's size when they differ, then concat.
      h = resizeNearest(g, h, skip.shape[2], skip.shape[3]);
      h = g.op('Concat', [h, skip], { axis: 1 }); // [B, C + C_skip, H, W]
      h = resBlock(g, h, embAct, `${p}output_blocks.${block}.0`, mult * mc, wino);
      let sub = 1;
      if (cfg.attention_resolutions.includes(ds)) h = transformer(h, `${p}output_blocks.${block}.${sub++}`, transformerDepthAt(cfg, level));
      if (level !== 0 && r === cfg.num_res_blocks) {
        h = upsample(g, h, `${p}output_blocks.${block}.${sub}`); // [B, C, 2H, 2W]
        ds /= 2;
      }
      block++;
    }
  });

  h = silu(g, groupNorm(g, h, `${p}out.0`, UNET_NORM_GROUPS, RESBLOCK_NORM_EPS));
  h = conv2d(g, h, `${p}out.2`); // [B, out, h, w]
  g.output(cast(g, h, 'float32'), UNET_OUTPUT);
  return g.build();
}

/** A SpatialTransformer of the UNet config at whatever width `h` has. */
export type UNetTransformerFn = (h: Value, key: string, depth: number) => Value;

export function unetTransformer(g: GraphBuilder, cfg: UNetConfig, context: CrossAttentionKV): UNetTransformerFn {
  return (h, key, depth) => {
    const { heads } = unetHeads(cfg, h.shape[1]);
    return spatialTransformer(g, h, context, key, { heads, depth, useLinear: cfg.use_linear_in_transformer });
  };
}

/**
 * time_embed: Linear(mc, 4mc), SiLU, Linear(4mc, 4mc) (+ SDXL's label_emb of the `y` input); every
 * ResBlock starts with SiLU(emb), returned as `embAct` [B, 4mc]. Shared by the UNet and ControlNet graphs.
 */
export function unetTimeEmbedding(g: GraphBuilder, cfg: UNetConfig, tIn: Value, batch: number, p: string): { embAct: Value } {
  const mc = cfg.model_channels;
  const tEmb = cast(g, timestepEmbedding(g, tIn, mc), g.floatType); // [B, mc]
  let emb = linear(g, silu(g, linear(g, tEmb, `${p}time_embed.0`)), `${p}time_embed.2`); // [B, 4mc]
  if (cfg.adm_in_channels !== undefined) {
    // sgm num_classes "sequential": label_emb = Sequential(Linear(adm, 4mc), SiLU, Linear(4mc, 4mc))
    const y = cast(g, g.input(UNET_INPUTS.y, 'float32', [batch, cfg.adm_in_channels]), g.floatType);
    emb = g.op('Add', [emb, linear(g, silu(g, linear(g, y, `${p}label_emb.0.0`)), `${p}label_emb.0.2`)]);
  }
  return { embAct: silu(g, emb) };
}

/**
 * The encoder: input_blocks 0..N-1 (conv, then per level ResBlocks with optional transformers and
 * a Downsample between levels). `after(h, i)` sees each block's output and returns what the next
 * block gets (the ControlNet adds its hint after block 0). Returns the last block's output.
 * `winograd` as in UNetGraphOptions.
 */
export function unetInputBlocks(
  g: GraphBuilder,
  cfg: UNetConfig,
  x: Value,
  embAct: Value,
  transformer: UNetTransformerFn,
  p: string,
  after: (h: Value, block: number) => Value,
  winograd?: WinogradPolicy,
): Value {
  const mc = cfg.model_channels;
  let h = after(conv2d(g, x, `${p}input_blocks.0.0`), 0); // [B, mc, h, w]
  let block = 1;
  let ds = 1;
  cfg.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < cfg.num_res_blocks; r++) {
      h = resBlock(g, h, embAct, `${p}input_blocks.${block}.0`, mult * mc, winograd);
      if (cfg.attention_resolutions.includes(ds)) h = transformer(h, `${p}input_blocks.${block}.1`, transformerDepthAt(cfg, level));
      h = after(h, block);
      block++;
    }
    if (level !== cfg.channel_mult.length - 1) {
      h = after(downsample(g, h, `${p}input_blocks.${block}.0`), block); // [B, C, ⌈H/2⌉, ⌈W/2⌉]
      block++;
      ds *= 2;
    }
  });
  return h;
}

/** The middle block: ResBlock, SpatialTransformer, ResBlock. */
export function unetMiddleBlock(
  g: GraphBuilder,
  cfg: UNetConfig,
  h: Value,
  embAct: Value,
  transformer: UNetTransformerFn,
  p: string,
  winograd?: WinogradPolicy,
): Value {
  const midChannels = h.shape[1];
  h = resBlock(g, h, embAct, `${p}middle_block.0`, midChannels, winograd);
  h = transformer(h, `${p}middle_block.1`, middleTransformerDepth(cfg));
  return resBlock(g, h, embAct, `${p}middle_block.2`, midChannels, winograd);
}

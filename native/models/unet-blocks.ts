// Building blocks of the ldm UNet (openaimodel.py / attention.py), each bound to its checkpoint
// keys: the sinusoidal timestep embedding, ResBlock, SpatialTransformer (self + cross attention,
// GEGLU feed-forward), Downsample and Upsample.
import type { GraphBuilder, Value } from '../graph/builder.js';
import { attention } from '../graph/ops-attention.js';
import { conv2d, geglu, groupNorm, layerNorm, linear, silu } from '../graph/ops-nn.js';
import { reshape, transpose } from '../graph/ops-tensor.js';
import { upsampleConv2x } from '../graph/ops-upconv.js';
import { conv3x3 } from '../graph/ops-winograd.js';
import type { WinogradPolicy } from '../graph/ops-winograd.js';

/** ldm normalization(): GroupNorm32(32, C), eps 1e-5, computed in float32. */
export const UNET_NORM_GROUPS = 32;
export const RESBLOCK_NORM_EPS = 1e-5;
/** SpatialTransformer.norm is torch.nn.GroupNorm(32, C, eps=1e-6). */
export const TRANSFORMER_NORM_EPS = 1e-6;
export const TRANSFORMER_LN_EPS = 1e-5;
const MAX_PERIOD = 10000;

/**
 * The frequencies of `timestep_embedding`, computed as torch does in float32:
 * exp(-ln(max_period) · arange(half, float32) / half).
 */
export function timestepFrequencies(half: number): number[] {
  const a = Math.fround(-Math.log(MAX_PERIOD));
  const out: number[] = [];
  for (let i = 0; i < half; i++) out.push(Math.fround(Math.exp(Math.fround(Math.fround(a * i) / half))));
  return out;
}

/**
 * timestep_embedding(t, dim): cat(cos(t·freqs), sin(t·freqs)) with the products taken in float32
 * (at t≈999 a float64 product differs by up to 6e-5). t [B] float32 -> [B, dim] float32.
 */
export function timestepEmbedding(g: GraphBuilder, t: Value, dim: number): Value {
  const half = Math.floor(dim / 2);
  const freqs = g.constant('float32', [1, half], timestepFrequencies(half), 'timestep_freqs');
  const args = g.op('Mul', [reshape(g, t, [t.shape[0], 1]), freqs]); // [B, half]
  let emb = g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: 1 }); // [B, 2·half]
  if (dim % 2) emb = g.op('Concat', [emb, g.constant('float32', [t.shape[0], 1], new Array<number>(t.shape[0]).fill(0))], { axis: 1 });
  return emb;
}

/**
 * ResBlock (use_scale_shift_norm False): in_layers (norm, SiLU, conv) + emb_layers (SiLU, linear)
 * broadcast over H×W, out_layers (norm, SiLU, conv), plus the identity or 1×1 skip_connection.
 * `embAct` is SiLU(emb) [B, E], shared by all blocks. `winograd` picks which of the two 3×3 convs run
 * by Winograd (undefined: both direct).
 */
export function resBlock(g: GraphBuilder, x: Value, embAct: Value, key: string, outChannels: number, winograd?: WinogradPolicy): Value {
  return g.scope(key, () => {
    const [b, c] = x.shape;
    let h = silu(g, groupNorm(g, x, `${key}.in_layers.0`, UNET_NORM_GROUPS, RESBLOCK_NORM_EPS));
    h = conv3x3(g, h, `${key}.in_layers.2`, winograd); // [B, out, H, W]
    const e = reshape(g, linear(g, embAct, `${key}.emb_layers.1`), [b, outChannels, 1, 1]); // [B, out, 1, 1]
    h = g.op('Add', [h, e]);
    h = silu(g, groupNorm(g, h, `${key}.out_layers.0`, UNET_NORM_GROUPS, RESBLOCK_NORM_EPS));
    h = conv3x3(g, h, `${key}.out_layers.3`, winograd); // [B, out, H, W]
    const skip = c === outChannels ? x : conv2d(g, x, `${key}.skip_connection`, { pads: 0 });
    return g.op('Add', [skip, h]);
  });
}

/**
 * Where a transformer block's cross-attention (attn2, key `key`) gets its keys and values, each
 * [B, L, inner]: projected from the text context inside the graph (`projectedKV`), or graph inputs
 * computed once per prompt by the UNet context graph (unet-graph.ts, `contextKV`).
 */
export type CrossAttentionKV = (key: string, inner: number) => { k: Value; v: Value };

/** ldm's attn2: to_k and to_v applied to `context` [B, L, ctx] in the graph. */
export function projectedKV(g: GraphBuilder, context: Value): CrossAttentionKV {
  return (key) => ({
    k: linear(g, context, `${key}.to_k`, { bias: false }),
    v: linear(g, context, `${key}.to_v`, { bias: false }),
  });
}

/** to_out(attention(to_q(x), k, v)); x [B, S, C], k/v [B, L, inner] -> [B, S, C]. */
function attentionLayer(g: GraphBuilder, x: Value, kv: CrossAttentionKV, key: string, heads: number): Value {
  const q = linear(g, x, `${key}.to_q`, { bias: false }); // [B, S, inner]
  const { k, v } = kv(key, q.shape[2]);
  const a = attention(g, q, k, v, { heads, name: key }); // [B, S, inner]
  return linear(g, a, `${key}.to_out.0`);
}

function basicTransformerBlock(g: GraphBuilder, x: Value, context: CrossAttentionKV, key: string, heads: number): Value {
  return g.scope(key, () => {
    let h = layerNorm(g, x, `${key}.norm1`, TRANSFORMER_LN_EPS);
    x = g.op('Add', [attentionLayer(g, h, projectedKV(g, h), `${key}.attn1`, heads), x]); // [B, HW, C]
    h = layerNorm(g, x, `${key}.norm2`, TRANSFORMER_LN_EPS);
    x = g.op('Add', [attentionLayer(g, h, context, `${key}.attn2`, heads), x]);
    h = layerNorm(g, x, `${key}.norm3`, TRANSFORMER_LN_EPS);
    const ff = linear(g, geglu(g, h, `${key}.ff.net.0.proj`), `${key}.ff.net.2`);
    return g.op('Add', [ff, x]); // [B, HW, C]
  });
}

export interface SpatialTransformerOptions {
  heads: number;
  depth: number;
  /** SD2-style linear proj_in/proj_out instead of 1×1 convs. */
  useLinear: boolean;
}

/** SpatialTransformer: GroupNorm, proj_in, `depth` transformer blocks over H·W tokens, proj_out, residual. */
export function spatialTransformer(g: GraphBuilder, x: Value, context: CrossAttentionKV, key: string, opts: SpatialTransformerOptions): Value {
  return g.scope(key, () => {
    const [b, c, hh, ww] = x.shape;
    let h = groupNorm(g, x, `${key}.norm`, UNET_NORM_GROUPS, TRANSFORMER_NORM_EPS);
    if (opts.useLinear) {
      h = transpose(g, reshape(g, h, [b, c, hh * ww]), [0, 2, 1]); // [B, HW, C]
      h = linear(g, h, `${key}.proj_in`); // [B, HW, inner]
    } else {
      h = conv2d(g, h, `${key}.proj_in`, { pads: 0 }); // [B, inner, H, W]
      h = transpose(g, reshape(g, h, [b, h.shape[1], hh * ww]), [0, 2, 1]); // [B, HW, inner]
    }
    const inner = h.shape[2];
    for (let d = 0; d < opts.depth; d++) h = basicTransformerBlock(g, h, context, `${key}.transformer_blocks.${d}`, opts.heads);
    if (opts.useLinear) {
      h = linear(g, h, `${key}.proj_out`); // [B, HW, C]
      h = reshape(g, transpose(g, h, [0, 2, 1]), [b, c, hh, ww]); // [B, C, H, W]
    } else {
      h = reshape(g, transpose(g, h, [0, 2, 1]), [b, inner, hh, ww]); // [B, inner, H, W]
      h = conv2d(g, h, `${key}.proj_out`, { pads: 0 }); // [B, C, H, W]
    }
    return g.op('Add', [h, x]);
  });
}

/** Downsample(use_conv): 3×3 conv, stride 2, padding 1 (key `<block>.op`). */
export function downsample(g: GraphBuilder, x: Value, key: string): Value {
  return conv2d(g, x, `${key}.op`, { stride: 2, pads: 1 }); // [B, C, ceil(H/2), ceil(W/2)]
}

/** Upsample(use_conv): nearest ×2, then 3×3 conv (key `<block>.conv`), as four 2×2 phase convs. */
export function upsample(g: GraphBuilder, x: Value, key: string): Value {
  return upsampleConv2x(g, x, `${key}.conv`); // [B, C, 2H, 2W]
}

// The open_clip text tower (SDXL's OpenCLIP ViT-bigG/14) as an ONNX graph:
// input_ids [B, 77], eos_index [B] -> penultimate [B, 77, W] and pooled [B, E].
// Resblocks are pre-LN: x += attn(ln_1(x)) with torch.nn.MultiheadAttention (in_proj = the q, k and
// v rows of one [3W, W] matrix, causal mask), x += c_proj(gelu(c_fc(ln_2(x)))) with the exact erf
// GELU. SDXL reads the input of the last resblock ("penultimate", no ln_final) as cross-attention
// context, and `ln_final(last)[eos] @ text_projection` as the pooled embedding (a plain product,
// W [width, embed_dim], not a Linear). `eos_index` = b·77 + position of the first EOS in row b,
// computed by the caller from the ids (open_clip: argmax, EOS being the largest id; textual-inversion
// rows get ids above the vocabulary here, where A1111 writes 0 in their place, so the EOS is found
// by its id).
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { attention } from '../graph/ops-attention.js';
import { geluErf, layerNorm, linear } from '../graph/ops-nn.js';
import { cast, reshape, split } from '../graph/ops-tensor.js';
import type { OpenClipTextConfig } from './config.js';

export const OPEN_CLIP_PREFIX = 'conditioner.embedders.1.model.';

export interface OpenClipGraphOptions {
  batch: number;
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Key prefix of the text tower; default `conditioner.embedders.1.model.`. */
  prefix?: string;
}

export const OPEN_CLIP_IO = { ids: 'input_ids', eosIndex: 'eos_index', penultimate: 'penultimate', pooled: 'pooled' } as const;

function resblock(g: GraphBuilder, x: Value, key: string, cfg: OpenClipTextConfig): Value {
  return g.scope(key, () => {
    const eps = cfg.layer_norm_eps;
    const w = cfg.width;
    const h = layerNorm(g, x, `${key}.ln_1`, eps); // [B, 77, W]
    const inProj = g.weight(`${key}.attn.in_proj_weight`, { transpose: true }); // [W, 3W]
    const qkv = g.op('Add', [g.op('MatMul', [h, inProj]), g.weight(`${key}.attn.in_proj_bias`)]); // [B, 77, 3W]
    const [q, k, v] = split(g, qkv, 2, [w, w, w]);
    const a = attention(g, q!, k!, v!, { heads: cfg.heads, causal: true, name: `${key}.attn` });
    const x1 = g.op('Add', [x, linear(g, a, `${key}.attn.out_proj`)]);
    const m = linear(g, geluErf(g, linear(g, layerNorm(g, x1, `${key}.ln_2`, eps), `${key}.mlp.c_fc`)), `${key}.mlp.c_proj`);
    return g.op('Add', [x1, m]); // [B, 77, W]
  });
}

/** Builds the tower for one batch size; both outputs float32. */
export function buildOpenClipTextGraph(cfg: OpenClipTextConfig, opts: OpenClipGraphOptions): BuiltGraph {
  const p = opts.prefix ?? OPEN_CLIP_PREFIX;
  const tokens = cfg.context_length;
  const { batch } = opts;
  const g = new GraphBuilder({ name: `open-clip-text-b${batch}`, precision: opts.precision, weightShape: opts.weightShape });
  const ids = g.input(OPEN_CLIP_IO.ids, 'int64', [batch, tokens]);
  const eosIndex = g.input(OPEN_CLIP_IO.eosIndex, 'int64', [batch]);
  const tok = g.op('Gather', [g.weight(`${p}token_embedding.weight`), ids], { axis: 0 }); // [B, 77, W]
  let x = g.op('Add', [tok, g.weight(`${p}positional_embedding`)]);
  let penultimate: Value | undefined;
  for (let i = 0; i < cfg.layers; i++) {
    if (i === cfg.layers - 1) penultimate = x;
    x = resblock(g, x, `${p}transformer.resblocks.${i}`, cfg);
  }
  const last = layerNorm(g, x, `${p}ln_final`, cfg.layer_norm_eps); // [B, 77, W]
  const atEos = g.op('Gather', [reshape(g, last, [batch * tokens, cfg.width]), eosIndex], { axis: 0 }); // [B, W]
  const pooled = g.op('MatMul', [atEos, g.weight(`${p}text_projection`)]); // [B, E]
  g.output(cast(g, penultimate ?? x, 'float32'), OPEN_CLIP_IO.penultimate);
  g.output(cast(g, pooled, 'float32'), OPEN_CLIP_IO.pooled);
  return g.build();
}

/**
 * `eos_index` for ids [B, 77]: b·77 + the first position of `eosId` in row b; without `eosId` (or
 * when a row has none) the argmax of the row, first occurrence, as torch.argmax.
 */
export function eosIndices(ids: ArrayLike<number | bigint>, batch: number, tokens: number, eosId?: number): BigInt64Array {
  const out = new BigInt64Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = -1;
    if (eosId !== undefined) for (let t = 0; t < tokens && best < 0; t++) if (Number(ids[b * tokens + t]) === eosId) best = t;
    if (best < 0) {
      best = 0;
      for (let t = 1; t < tokens; t++) if (Number(ids[b * tokens + t]) > Number(ids[b * tokens + best])) best = t;
    }
    out[b] = BigInt(b * tokens + best);
  }
  return out;
}

// The SD1.x text encoder (transformers CLIPTextModel, CLIP ViT-L/14 text tower) as an ONNX graph:
// input_ids [B, 77] -> hidden [B, 77, C]. Pre-LN encoder layers (q scaled by head_dim^-0.5 before
// q·kᵀ, causal mask, quick_gelu MLP). "Clip skip" n takes the output of layer L-n+1 and applies
// the final LayerNorm to it, exactly as A1111 (`hidden_states[-n]` then `final_layer_norm`); the
// layers after it are not built at all.
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { attention } from '../graph/ops-attention.js';
import { geluErf, layerNorm, linear, quickGelu } from '../graph/ops-nn.js';
import { cast } from '../graph/ops-tensor.js';
import { GraphError } from '../graph/graph-error.js';
import type { ClipTextConfig } from './config.js';
import { CLIP_L_PREFIX } from './family.js';

export interface ClipTextGraphOptions {
  batch: number;
  /** 1 = last layer (SD1 default), 2 = penultimate layer ("Clip skip 2"), ... up to num_hidden_layers. */
  clipSkip: number;
  precision?: Precision;
  /** Checkpoint shapes, to check every weight while building. */
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Key prefix of the text model; default `cond_stage_model.transformer.text_model.`. */
  prefix?: string;
  /** false: return the raw hidden state of the chosen layer (transformers' `hidden_states[i]`), without the final LayerNorm. */
  finalLayerNorm?: boolean;
}

export const CLIP_INPUT_IDS = 'input_ids';
export const CLIP_OUTPUT = 'hidden';

function encoderLayer(g: GraphBuilder, x: Value, key: string, cfg: ClipTextConfig): Value {
  return g.scope(key, () => {
    const eps = cfg.layer_norm_eps;
    const h = layerNorm(g, x, `${key}.layer_norm1`, eps); // [B, 77, C]
    const q = linear(g, h, `${key}.self_attn.q_proj`);
    const k = linear(g, h, `${key}.self_attn.k_proj`);
    const v = linear(g, h, `${key}.self_attn.v_proj`);
    const a = attention(g, q, k, v, { heads: cfg.num_attention_heads, causal: true, name: `${key}.self_attn` });
    const x1 = g.op('Add', [x, linear(g, a, `${key}.self_attn.out_proj`)]); // [B, 77, C]
    const m = layerNorm(g, x1, `${key}.layer_norm2`, eps);
    const f1 = linear(g, m, `${key}.mlp.fc1`); // [B, 77, intermediate]
    const act = cfg.hidden_act === 'quick_gelu' ? quickGelu(g, f1) : geluErf(g, f1);
    return g.op('Add', [x1, linear(g, act, `${key}.mlp.fc2`)]); // [B, 77, C]
  });
}

/** Builds the text encoder graph for one batch size and clip skip. */
export function buildClipTextGraph(cfg: ClipTextConfig, opts: ClipTextGraphOptions): BuiltGraph {
  const layers = cfg.num_hidden_layers;
  if (!Number.isInteger(opts.clipSkip) || opts.clipSkip < 1 || opts.clipSkip > layers) {
    throw new GraphError('graph_bad_config', `clip skip must be an integer from 1 to ${layers}, got ${opts.clipSkip}`);
  }
  const p = opts.prefix ?? CLIP_L_PREFIX;
  const tokens = cfg.max_position_embeddings;
  const g = new GraphBuilder({ name: `clip-text-b${opts.batch}-skip${opts.clipSkip}`, precision: opts.precision, weightShape: opts.weightShape });
  const ids = g.input(CLIP_INPUT_IDS, 'int64', [opts.batch, tokens]);
  const tok = g.op('Gather', [g.weight(`${p}embeddings.token_embedding.weight`), ids], { axis: 0 }); // [B, 77, C]
  // Positions are always 0..76: the checkpoint's position_ids buffer is ignored (merges damage it).
  const pos = g.weight(`${p}embeddings.position_embedding.weight`); // [77, C]
  let x = g.op('Add', [tok, pos]); // [B, 77, C]
  const upTo = layers - opts.clipSkip + 1;
  for (let i = 0; i < upTo; i++) x = encoderLayer(g, x, `${p}encoder.layers.${i}`, cfg);
  if (opts.finalLayerNorm !== false) x = layerNorm(g, x, `${p}final_layer_norm`, cfg.layer_norm_eps);
  g.output(cast(g, x, 'float32'), CLIP_OUTPUT); // [B, 77, C]
  return g.build();
}

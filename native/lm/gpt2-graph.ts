// GPT2LMHeadModel (transformers 4.30 modeling_gpt2.py) as one ONNX graph with a KV cache. The token
// count S and the cached length P are dynamic dimensions, so a single session serves both the prompt
// (S = prompt length, P = 0) and every decoding step (S = 1, P = tokens so far): no per-shape
// sessions, one copy of the weights. Pre-LN blocks, Conv1D weights used as stored ([in, out]),
// learned positions, gelu_new, logits = ln_f(h) · wteᵀ (tied; a Gemm with transB, so the embedding
// is stored once and never transposed). Node and weight names are the checkpoint keys.
//
//   inputs  input_ids [1, S] int64, position_ids [1, S] int64, attention_bias [1, 1, S, P+S] float32
//           (0 = may attend, float32 min = masked), past_key.{i} / past_value.{i} [1, H, P, D] float32
//   outputs logits [1, S, V] float32, present_key.{i} / present_value.{i} [1, H, P+S, D] float32
import { float, GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { layerNorm } from '../graph/ops-nn.js';
import { cast, concat, reshape, split, transpose } from '../graph/ops-tensor.js';
import type { Gpt2Config } from './gpt2-config.js';

export const LM_INPUT_IDS = 'input_ids';
export const LM_POSITION_IDS = 'position_ids';
export const LM_ATTENTION_BIAS = 'attention_bias';
export const LM_LOGITS = 'logits';
export const pastKey = (i: number): string => `past_key.${i}`;
export const pastValue = (i: number): string => `past_value.${i}`;
export const presentKey = (i: number): string => `present_key.${i}`;
export const presentValue = (i: number): string => `present_value.${i}`;

/** transformers adds float32's most negative value, not -inf, where attention is masked. */
export const MASKED = -3.4028234663852886e38;

// Sample sizes for the builder's static inference; distinct so that a size baked into a constant
// by mistake shows up as a wrong result in the tests, which run other sizes.
const SAMPLE_S = 3;
const SAMPLE_P = 5;
const DYN_S = 'tokens';
const DYN_P = 'past';
const DYN_T = 'total';

export interface Gpt2GraphOptions {
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Where the output projection comes from: the tied embedding (default) or an untied `lm_head.weight`. */
  lmHeadKey?: string;
}

/** Conv1D: y = x · W + b with W stored [in, out]. */
function conv1d(g: GraphBuilder, x: Value, key: string): Value {
  const y = g.op('MatMul', [x, g.weight(`${key}.weight`)], {}, { name: key });
  return g.op('Add', [y, g.weight(`${key}.bias`)], {}, { name: `${key}.bias` });
}

/** `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (NewGELUActivation). */
function geluNew(g: GraphBuilder, x: Value): Value {
  const x3 = g.op('Mul', [x, g.op('Mul', [x, x])]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]);
}

function activation(g: GraphBuilder, x: Value, cfg: Gpt2Config): Value {
  switch (cfg.activation) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluNew(g, x);
    case 'gelu': {
      const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
      return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
    }
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
    case 'swish':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
  }
}

/** [1, S, C] -> [1, H, S, D] with the token count left dynamic. */
function splitHeads(g: GraphBuilder, x: Value, heads: number): Value {
  const d = x.shape[2] / heads;
  return transpose(g, reshape(g, x, [1, -1, heads, d]), [0, 2, 1, 3]);
}

function block(g: GraphBuilder, h: Value, i: number, cfg: Gpt2Config, bias: Value): { h: Value; key: Value; value: Value } {
  const key = `transformer.h.${i}`;
  return g.scope(key, () => {
    const c = cfg.nEmbd;
    const d = c / cfg.nHead;
    const a = layerNorm(g, h, `${key}.ln_1`, cfg.layerNormEpsilon); // [1, S, C]
    const qkv = conv1d(g, a, `${key}.attn.c_attn`); // [1, S, 3C]
    const [q, k, v] = split(g, qkv, -1, [c, c, c]); // 3 × [1, S, C]
    const pastK = cast(g, g.input(pastKey(i), 'float32', [1, cfg.nHead, SAMPLE_P, d], [undefined, undefined, DYN_P]), g.floatType);
    const pastV = cast(g, g.input(pastValue(i), 'float32', [1, cfg.nHead, SAMPLE_P, d], [undefined, undefined, DYN_P]), g.floatType);
    const kAll = concat(g, [pastK, splitHeads(g, k, cfg.nHead)], 2); // [1, H, P+S, D]
    const vAll = concat(g, [pastV, splitHeads(g, v, cfg.nHead)], 2); // [1, H, P+S, D]
    // Scores and softmax in float32 even in the fp16 lowering (logit-sized sums, masked entries).
    let w = cast(g, g.op('MatMul', [splitHeads(g, q, cfg.nHead), transpose(g, kAll, [0, 1, 3, 2])]), 'float32'); // [1, H, S, P+S]
    if (cfg.scaleAttnWeights) w = g.op('Div', [w, g.scalar(Math.fround(Math.sqrt(d)), 'float32')]);
    if (cfg.scaleAttnByInverseLayerIdx) w = g.op('Div', [w, g.scalar(i + 1, 'float32')]);
    const probs = cast(g, g.op('Softmax', [g.op('Add', [w, bias])], { axis: -1 }), g.floatType);
    const o = g.op('MatMul', [probs, vAll]); // [1, H, S, D]
    const merged = reshape(g, transpose(g, o, [0, 2, 1, 3]), [1, -1, c]); // [1, S, C]
    const h1 = g.op('Add', [h, conv1d(g, merged, `${key}.attn.c_proj`)]); // [1, S, C]
    const m = layerNorm(g, h1, `${key}.ln_2`, cfg.layerNormEpsilon);
    const f = activation(g, conv1d(g, m, `${key}.mlp.c_fc`), cfg); // [1, S, n_inner]
    return { h: g.op('Add', [h1, conv1d(g, f, `${key}.mlp.c_proj`)]), key: kAll, value: vAll };
  });
}

/** Builds the graph; its shape does not depend on any request, so one is built per model. */
export function buildGpt2Graph(cfg: Gpt2Config, opts: Gpt2GraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder({ name: `gpt2-l${cfg.nLayer}-c${cfg.nEmbd}`, precision: opts.precision, weightShape: opts.weightShape });
  const ids = g.input(LM_INPUT_IDS, 'int64', [1, SAMPLE_S], [undefined, DYN_S]);
  const pos = g.input(LM_POSITION_IDS, 'int64', [1, SAMPLE_S], [undefined, DYN_S]);
  const bias = g.input(LM_ATTENTION_BIAS, 'float32', [1, 1, SAMPLE_S, SAMPLE_P + SAMPLE_S], [undefined, undefined, DYN_S, DYN_T]);
  const wte = g.weight('transformer.wte.weight'); // [V, C]
  const tok = g.op('Gather', [wte, ids], { axis: 0 }, { name: 'transformer.wte' }); // [1, S, C]
  const wpe = g.op('Gather', [g.weight('transformer.wpe.weight'), pos], { axis: 0 }, { name: 'transformer.wpe' }); // [1, S, C]
  let h = g.op('Add', [tok, wpe]); // [1, S, C]
  for (let i = 0; i < cfg.nLayer; i++) {
    const out = block(g, h, i, cfg, bias);
    h = out.h;
    g.output(cast(g, out.key, 'float32'), presentKey(i), [undefined, undefined, DYN_T]);
    g.output(cast(g, out.value, 'float32'), presentValue(i), [undefined, undefined, DYN_T]);
  }
  h = layerNorm(g, h, 'transformer.ln_f', cfg.layerNormEpsilon); // [1, S, C]
  const head = opts.lmHeadKey && opts.lmHeadKey !== 'transformer.wte.weight' ? g.weight(opts.lmHeadKey) : wte; // [V, C]
  const flat = reshape(g, h, [-1, cfg.nEmbd]); // [S, C]
  const logits = g.op('Gemm', [flat, head], { transB: 1, alpha: float(1) }, { name: 'lm_head' }); // [S, V]
  g.output(cast(g, reshape(g, logits, [1, -1, cfg.vocabSize]), 'float32'), LM_LOGITS, [undefined, DYN_S]); // [1, S, V]
  return g.build();
}

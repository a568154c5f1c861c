// Scaled dot-product attention over [B, S, heads·D] tensors. Two lowerings:
//  - 'fused': com.microsoft.MultiHeadAttention, which the CPU and CUDA providers implement with
//    tiled (flash-style) kernels, so the [B, heads, S, L] score matrix is never held at once —
//    what keeps a 512² UNet's 4096×4096 self-attention cheap in memory;
//  - 'matmul': explicit MatMul/Softmax/MatMul, used for short sequences with an additive mask
//    (CLIP's causal mask over 77 tokens) where the scores are tiny anyway.
import { float } from './builder.js';
import type { GraphBuilder, Value } from './builder.js';
import { reshape, transpose } from './ops-tensor.js';

export interface AttentionOptions {
  heads: number;
  /** Scale applied to q·kᵀ; default head_dim^-0.5. */
  scale?: number;
  /** Mask out keys after the query position (CLIP). Forces the 'matmul' lowering. */
  causal?: boolean;
  lowering?: 'fused' | 'matmul';
  name?: string;
}

const masks = new WeakMap<GraphBuilder, Map<string, Value>>();

/** Additive [S, L] mask, 0 on and below the diagonal and the most negative finite value above; one per graph. */
function causalMask(g: GraphBuilder, s: number, l: number): Value {
  let perGraph = masks.get(g);
  if (!perGraph) masks.set(g, (perGraph = new Map()));
  const key = `${s}x${l}`;
  const hit = perGraph.get(key);
  if (hit) return hit;
  // transformers adds float32's minimum; -65504 is float16's
  const neg = g.floatType === 'float16' ? -65504 : -3.4028234663852886e38;
  const mask = new Array<number>(s * l);
  for (let i = 0; i < s; i++) for (let j = 0; j < l; j++) mask[i * l + j] = j > i ? neg : 0;
  const v = g.constant(g.floatType, [s, l], mask, 'causal_mask');
  perGraph.set(key, v);
  return v;
}

/** softmax(q·kᵀ·scale)·v: q [B, S, H·D], k [B, L, H·D], v [B, L, H·D] -> [B, S, H·D]. */
export function attention(g: GraphBuilder, q: Value, k: Value, v: Value, opts: AttentionOptions): Value {
  const [b, s, c] = q.shape;
  const l = k.shape[1];
  const heads = opts.heads;
  const d = c / heads;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const lowering = opts.causal ? 'matmul' : (opts.lowering ?? 'fused');
  if (lowering === 'fused') {
    return g.op('MultiHeadAttention', [q, k, v], { num_heads: heads, scale: float(scale) }, { domain: 'com.microsoft', name: opts.name });
  }
  const qh = transpose(g, reshape(g, q, [b, s, heads, d]), [0, 2, 1, 3]); // [B, H, S, D]
  const kh = transpose(g, reshape(g, k, [b, l, heads, d]), [0, 2, 3, 1]); // [B, H, D, L]
  const vh = transpose(g, reshape(g, v, [b, l, heads, d]), [0, 2, 1, 3]); // [B, H, L, D]
  // q is scaled before the product, as transformers' CLIPAttention does.
  let scores = g.op('MatMul', [g.op('Mul', [qh, g.scalar(scale)]), kh]); // [B, H, S, L]
  if (opts.causal) scores = g.op('Add', [scores, causalMask(g, s, l)]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const out = g.op('MatMul', [probs, vh]); // [B, H, S, D]
  return reshape(g, transpose(g, out, [0, 2, 1, 3]), [b, s, c]); // [B, S, H·D]
}

// Layer helpers named after the PyTorch modules they replace: each takes the module's checkpoint
// key (`model.diffusion_model.input_blocks.0.0`) and binds `<key>.weight` / `<key>.bias`, so a
// node's name is its checkpoint key. Precision-sensitive statistics (GroupNorm) run in float32
// even in the fp16 lowering.
import { float } from './builder.js';
import type { GraphBuilder, Value } from './builder.js';
import { cast, reshape, split } from './ops-tensor.js';

export interface Conv2dOptions {
  stride?: number;
  /** ONNX order [top, left, bottom, right]; a number pads all sides. Default: same padding (k-1)/2. */
  pads?: number | readonly [number, number, number, number];
  /** Declared weight shape when the checkpoint stores the kernel differently (e.g. [C, C] linear as 1×1 conv). */
  weightShape?: readonly number[];
}

/** nn.Conv2d over NCHW. */
export function conv2d(g: GraphBuilder, x: Value, key: string, opts: Conv2dOptions = {}): Value {
  const w = g.weight(`${key}.weight`, opts.weightShape ? { shape: opts.weightShape } : {});
  const b = g.weight(`${key}.bias`);
  const k = w.shape[2];
  const p = opts.pads ?? (k - 1) / 2;
  const pads = typeof p === 'number' ? [p, p, p, p] : [...p];
  const stride = opts.stride ?? 1;
  return g.op('Conv', [x, w, b], { kernel_shape: [w.shape[2], w.shape[3]], pads, strides: [stride, stride] }, { name: key });
}

/** nn.Linear over the last axis: [..., in] -> [..., out]. The [out, in] weight is stored transposed. */
export function linear(g: GraphBuilder, x: Value, key: string, opts: { bias?: boolean; weightShape?: readonly number[] } = {}): Value {
  const w = g.weight(`${key}.weight`, { transpose: true, ...(opts.weightShape ? { shape: opts.weightShape } : {}) });
  const y = g.op('MatMul', [x, w], {}, { name: key });
  if (opts.bias === false) return y;
  return g.op('Add', [y, g.weight(`${key}.bias`)], {}, { name: `${key}.bias` });
}

/**
 * nn.GroupNorm(groups, C, eps) with affine parameters, over [B, C, ...]. Lowered as
 * Reshape [B, G, -1] -> LayerNormalization over the last axis (unit scale, no bias) -> Reshape ->
 * per-channel scale and shift, which every execution provider has; in fp16 graphs the statistics
 * are computed in float32. LayerNormalization rather than InstanceNormalization over [B, G, -1]
 * (what torch.onnx.export writes): ORT's CPU InstanceNormalization runs one thread and about 9×
 * the CPU time of its LayerNormalization on VAE-sized groups (docs/engine-speed.md).
 */
export function groupNorm(g: GraphBuilder, x: Value, key: string, groups: number, eps: number): Value {
  const [b, c] = x.shape;
  const spatial = x.shape.slice(2);
  const statType = 'float32';
  const xs = cast(g, x, statType);
  const grouped = reshape(g, xs, [b, groups, -1]); // [B, G, C/G·H·W]
  // a unit scale as long as one group; Expand keeps the model file small (ORT folds it at load)
  const ones = g.op('Expand', [g.scalar(1, statType), g.ints([grouped.shape[2]])], {}, { name: `${key}.unit_scale` });
  const normed = g.op('LayerNormalization', [grouped, ones], { axis: -1, epsilon: float(eps) }, { name: `${key}.norm` });
  const back = reshape(g, normed, [b, c, ...spatial]); // [B, C, H, W]
  const affineShape = [c, ...spatial.map(() => 1)];
  const gamma = g.weight(`${key}.weight`, { shape: affineShape, dtype: statType });
  const beta = g.weight(`${key}.bias`, { shape: affineShape, dtype: statType });
  const y = g.op('Add', [g.op('Mul', [back, gamma], {}, { name: `${key}.weight` }), beta], {}, { name: `${key}.bias` });
  return cast(g, y, x.dtype);
}

/** nn.LayerNorm over the last axis. */
export function layerNorm(g: GraphBuilder, x: Value, key: string, eps: number): Value {
  return g.op('LayerNormalization', [x, g.weight(`${key}.weight`), g.weight(`${key}.bias`)], { axis: -1, epsilon: float(eps) }, { name: key });
}

/** x · sigmoid(x) */
export function silu(g: GraphBuilder, x: Value): Value {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** CLIP's quick_gelu: x · sigmoid(1.702 x) */
export function quickGelu(g: GraphBuilder, x: Value): Value {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])]);
}

/**
 * Exact GELU, x · (1 + erf(x / √2)) · 0.5, written in the form (Div by √2, Mul by 0.5 last) that
 * ORT's GeluFusion turns into one Gelu kernel; a Mul by 1/√2 is not matched and leaves five ops.
 */
export function geluErf(g: GraphBuilder, x: Value): Value {
  const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
}

/**
 * GEGLU (ldm attention.py): `a, gate = proj(x).chunk(2, -1); a · gelu(gate)`. The projection's
 * weight and bias are split (constant-folded at load) into a value and a gate MatMul instead of
 * splitting its [B, HW, 2·inner] output: that output never exists, which lowers a full-size SD1.5
 * UNet step at 512² from 4.14 to 3.99 GiB, bit-identical and at the same speed (docs/engine-speed.md).
 * The checkpoint tensor stays the only binding, so LoRA merges and the fp16 lowering are unchanged.
 */
export function geglu(g: GraphBuilder, x: Value, key: string): Value {
  const w = g.weight(`${key}.weight`, { transpose: true }); // [C, 2·inner]
  const inner = w.shape[1] / 2;
  const [wa, wg] = split(g, w, 1, [inner, inner]);
  const [ba, bg] = split(g, g.weight(`${key}.bias`), 0, [inner, inner]);
  const a = g.op('Add', [g.op('MatMul', [x, wa], {}, { name: `${key}.value` }), ba]); // [..., inner]
  const gate = g.op('Add', [g.op('MatMul', [x, wg], {}, { name: `${key}.gate` }), bg]);
  return g.op('Mul', [a, geluErf(g, gate)]);
}

// Layout helpers: reshape, transpose, concat, split, casts and nearest-neighbour resizes. Shapes
// are static, so these take plain number arrays and let the builder make the constants.
import { dtypeAttr } from './builder.js';
import type { DataType, GraphBuilder, Value } from './builder.js';

export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return g.op('Reshape', [x, g.ints(shape)]);
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  return g.op('Transpose', [x], { perm });
}

export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  return g.op('Concat', xs, { axis });
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(g: GraphBuilder, x: Value, axis: number, sizes: readonly number[]): Value[] {
  return g.opN('Split', [x, g.ints(sizes)], { axis }, { outputs: sizes.length });
}

export function cast(g: GraphBuilder, x: Value, dtype: DataType): Value {
  return x.dtype === dtype ? x : g.op('Cast', [x], { to: dtypeAttr(dtype) });
}

/**
 * Nearest-neighbour resize of the last two axes of an NCHW tensor to [h, w] with source index
 * floor(dst · in / out), which is torch's `interpolate(mode="nearest")` (ONNX: asymmetric + floor).
 */
export function resizeNearest(g: GraphBuilder, x: Value, h: number, w: number): Value {
  const [n, c, ih, iw] = x.shape;
  if (ih === h && iw === w) return x;
  return g.op('Resize', [x, null, null, g.ints([n, c, h, w])], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
}

/** `interpolate(scale_factor=2, mode="nearest")`. */
export function upsampleNearest2x(g: GraphBuilder, x: Value): Value {
  return resizeNearest(g, x, x.shape[2] * 2, x.shape[3] * 2);
}

// Static shape and dtype inference for the operators the model builders use. Every shape in an
// Easel graph is known when the graph is built (sessions are made per request shape), so each
// value carries its exact shape: builders can branch on it (e.g. A1111's skip-connection resize)
// and a wrong wiring fails while building, with a message naming the node, not inside ORT.
import type { DataType } from './onnx-proto.js';
import { GraphError } from './graph-error.js';

export interface ValueType {
  readonly dtype: DataType;
  readonly shape: readonly number[];
}

/** Attribute values as builders write them: plain numbers are INT attributes, floats are wrapped. */
export type AttrInput =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly dtype: DataType };

export interface InferenceContext {
  opType: string;
  domain: string;
  nodeName: string;
  inputs: ReadonlyArray<ValueType | null>;
  attrs: Readonly<Record<string, AttrInput>>;
  /** Known contents of constant inputs (shape, axes, sizes, scales...), by input position. */
  constValues: ReadonlyArray<readonly number[] | undefined>;
  outputCount: number;
}

function fail(ctx: InferenceContext, message: string): never {
  throw new GraphError('graph_shape_mismatch', `${ctx.opType} ${ctx.nodeName}: ${message}`);
}

function input(ctx: InferenceContext, i: number): ValueType {
  const v = ctx.inputs[i];
  if (!v) fail(ctx, `input ${i} is required`);
  return v;
}

function intAttr(ctx: InferenceContext, name: string, dflt?: number): number {
  const v = ctx.attrs[name];
  if (v === undefined) {
    if (dflt === undefined) fail(ctx, `attribute ${name} is required`);
    return dflt;
  }
  if (typeof v !== 'number') fail(ctx, `attribute ${name} must be an int`);
  return v;
}

function intsAttr(ctx: InferenceContext, name: string): readonly number[] | undefined {
  const v = ctx.attrs[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) fail(ctx, `attribute ${name} must be ints`);
  return v as readonly number[];
}

function constInput(ctx: InferenceContext, i: number): readonly number[] {
  const v = ctx.constValues[i];
  if (!v) fail(ctx, `input ${i} must be a constant built with the graph builder`);
  return v;
}

function normAxis(ctx: InferenceContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(ctx, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function broadcastShapes(ctx: InferenceContext, shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (dim !== 1 && dim !== d) fail(ctx, `cannot broadcast [${shapes.map((x) => x.join(',')).join('] with [')}]`);
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

const SAME_SHAPE = new Set([
  'Sigmoid', 'Erf', 'Exp', 'Sqrt', 'Tanh', 'Relu', 'Neg', 'Cos', 'Sin', 'Softmax', 'Identity', 'Gelu',
  'InstanceNormalization', 'GroupNormalization', 'Reciprocal', 'Abs', 'Log',
  'LeakyRelu', 'PRelu',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);

function convShape(ctx: InferenceContext): number[] {
  const x = input(ctx, 0).shape;
  const w = input(ctx, 1).shape;
  const spatial = x.length - 2;
  const group = intAttr(ctx, 'group', 1);
  if (x[1] !== w[1] * group) fail(ctx, `input has ${x[1]} channels, weight [${w.join(',')}] expects ${w[1] * group}`);
  const b = ctx.inputs[2];
  if (b && (b.shape.length !== 1 || b.shape[0] !== w[0])) fail(ctx, `bias [${b.shape.join(',')}] for ${w[0]} output channels`);
  const pads = intsAttr(ctx, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const strides = intsAttr(ctx, 'strides') ?? new Array<number>(spatial).fill(1);
  const dil = intsAttr(ctx, 'dilations') ?? new Array<number>(spatial).fill(1);
  const out = [x[0], w[0]];
  for (let i = 0; i < spatial; i++) {
    const k = (w[2 + i] - 1) * dil[i] + 1;
    out.push(Math.floor((x[2 + i] + pads[i] + pads[i + spatial] - k) / strides[i]) + 1);
  }
  return out;
}

/** MaxPool over NCHW with kernel_shape, strides, pads (floor mode, no dilation). */
function poolShape(ctx: InferenceContext): number[] {
  const x = input(ctx, 0).shape;
  const k = intsAttr(ctx, 'kernel_shape');
  if (!k) fail(ctx, 'MaxPool needs kernel_shape');
  const spatial = x.length - 2;
  const pads = intsAttr(ctx, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const strides = intsAttr(ctx, 'strides') ?? new Array<number>(spatial).fill(1);
  const out = [x[0], x[1]];
  for (let i = 0; i < spatial; i++) out.push(Math.floor((x[2 + i] + pads[i] + pads[i + spatial] - k[i]) / strides[i]) + 1);
  return out;
}

/** ConvTranspose with weight [C_in, C_out, kh, kw], no output_padding / dilation. */
function convTransposeShape(ctx: InferenceContext): number[] {
  const x = input(ctx, 0).shape;
  const w = input(ctx, 1).shape;
  if (x[1] !== w[0]) fail(ctx, `input has ${x[1]} channels, weight [${w.join(',')}] expects ${w[0]}`);
  const spatial = x.length - 2;
  const pads = intsAttr(ctx, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const strides = intsAttr(ctx, 'strides') ?? new Array<number>(spatial).fill(1);
  const out = [x[0], w[1]];
  for (let i = 0; i < spatial; i++) out.push(strides[i] * (x[2 + i] - 1) + w[2 + i] - pads[i] - pads[i + spatial]);
  return out;
}

function matMulShape(ctx: InferenceContext): number[] {
  const a = input(ctx, 0).shape;
  const b = input(ctx, 1).shape;
  if (a.length < 2 || b.length < 2) fail(ctx, 'MatMul needs rank >= 2 operands here');
  if (a[a.length - 1] !== b[b.length - 2]) fail(ctx, `[${a.join(',')}] x [${b.join(',')}]: inner dims differ`);
  const batch = broadcastShapes(ctx, [a.slice(0, -2), b.slice(0, -2)]);
  return [...batch, a[a.length - 2], b[b.length - 1]];
}

function reshapeShape(ctx: InferenceContext): number[] {
  const x = input(ctx, 0).shape;
  const target = constInput(ctx, 1);
  const total = x.reduce((p, d) => p * d, 1);
  const out = target.map((d, i) => (d === 0 ? x[i] : d));
  const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = total / known;
  if (out.reduce((p, d) => p * d, 1) !== total || !Number.isInteger(out[neg] ?? 0)) {
    fail(ctx, `cannot reshape [${x.join(',')}] to [${target.join(',')}]`);
  }
  return out;
}

function sliceShape(ctx: InferenceContext): number[] {
  const x = input(ctx, 0).shape;
  const starts = constInput(ctx, 1);
  const ends = constInput(ctx, 2);
  const axes = ctx.inputs[3] ? constInput(ctx, 3) : starts.map((_, i) => i);
  const steps = ctx.inputs[4] ? constInput(ctx, 4) : starts.map(() => 1);
  const out = [...x];
  axes.forEach((axis, i) => {
    const a = normAxis(ctx, axis, x.length);
    if (steps[i] !== 1) fail(ctx, 'only step 1 slices are supported');
    const dim = x[a];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    out[a] = Math.max(0, clamp(ends[i]) - clamp(starts[i]));
  });
  return out;
}

function infer(ctx: InferenceContext): ValueType[] {
  const op = ctx.opType;
  const first = () => input(ctx, 0);
  if (ctx.domain === 'com.microsoft' && op === 'MultiHeadAttention') {
    const q = first().shape;
    const v = input(ctx, 2).shape;
    return [{ dtype: first().dtype, shape: [q[0], q[1], v[2]] }];
  }
  if (ctx.domain !== '') fail(ctx, `no shape inference for domain ${ctx.domain}`);
  if (SAME_SHAPE.has(op)) return [{ ...first(), shape: [...first().shape] }];
  if (BROADCAST.has(op)) {
    const ins = ctx.inputs.map((_, i) => input(ctx, i));
    return [{ dtype: ins[0].dtype, shape: broadcastShapes(ctx, ins.map((v) => v.shape)) }];
  }
  switch (op) {
    case 'Conv':
      return [{ dtype: first().dtype, shape: convShape(ctx) }];
    case 'MaxPool':
      return [{ dtype: first().dtype, shape: poolShape(ctx) }];
    case 'ConvTranspose':
      return [{ dtype: first().dtype, shape: convTransposeShape(ctx) }];
    case 'MatMul':
      return [{ dtype: first().dtype, shape: matMulShape(ctx) }];
    case 'Gemm': {
      const a = first().shape;
      const b = input(ctx, 1).shape;
      if (a.length !== 2 || b.length !== 2) fail(ctx, 'Gemm needs 2-D operands');
      const [m, k] = intAttr(ctx, 'transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
      const [kb, n] = intAttr(ctx, 'transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
      if (k !== kb) fail(ctx, `[${a.join(',')}] x [${b.join(',')}]: inner dims differ`);
      return [{ dtype: first().dtype, shape: [m, n] }];
    }
    case 'Cast': {
      const to = ctx.attrs.to;
      if (typeof to !== 'object' || to === null || !('dtype' in to)) fail(ctx, 'Cast needs attribute to = { dtype }');
      return [{ dtype: to.dtype, shape: [...first().shape] }];
    }
    case 'LayerNormalization':
      return [{ ...first(), shape: [...first().shape] }];
    case 'Reshape':
      return [{ dtype: first().dtype, shape: reshapeShape(ctx) }];
    case 'Transpose': {
      const x = first().shape;
      const perm = intsAttr(ctx, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return [{ dtype: first().dtype, shape: perm.map((p) => x[p]) }];
    }
    case 'Concat': {
      const ins = ctx.inputs.map((_, i) => input(ctx, i));
      const rank = ins[0].shape.length;
      const axis = normAxis(ctx, intAttr(ctx, 'axis'), rank);
      const out = [...ins[0].shape];
      out[axis] = 0;
      for (const v of ins) {
        v.shape.forEach((d, i) => {
          if (i !== axis && d !== out[i]) fail(ctx, `inputs differ outside axis ${axis}: [${ins.map((x) => x.shape.join(',')).join('] [')}]`);
        });
        out[axis] += v.shape[axis];
      }
      return [{ dtype: ins[0].dtype, shape: out }];
    }
    case 'Split': {
      const x = first().shape;
      const axis = normAxis(ctx, intAttr(ctx, 'axis', 0), x.length);
      const sizes = ctx.inputs[1] ? constInput(ctx, 1) : new Array<number>(ctx.outputCount).fill(x[axis] / ctx.outputCount);
      if (sizes.reduce((p, d) => p + d, 0) !== x[axis] || sizes.some((s) => !Number.isInteger(s))) {
        fail(ctx, `cannot split ${x[axis]} into [${sizes.join(',')}]`);
      }
      return sizes.map((s) => {
        const shape = [...x];
        shape[axis] = s;
        return { dtype: first().dtype, shape };
      });
    }
    case 'Slice':
      return [{ dtype: first().dtype, shape: sliceShape(ctx) }];
    case 'Resize': {
      const x = first().shape;
      if (ctx.inputs[3]) return [{ dtype: first().dtype, shape: [...constInput(ctx, 3)] }];
      const scales = constInput(ctx, 2);
      return [{ dtype: first().dtype, shape: x.map((d, i) => Math.floor(d * scales[i])) }];
    }
    case 'Expand':
      return [{ dtype: first().dtype, shape: broadcastShapes(ctx, [first().shape, constInput(ctx, 1)]) }];
    case 'DepthToSpace': {
      const [b, c, h, w] = first().shape;
      const bs = intAttr(ctx, 'blocksize');
      if (first().shape.length !== 4 || c % (bs * bs) !== 0) fail(ctx, `cannot rearrange [${first().shape.join(',')}] by blocks of ${bs}`);
      return [{ dtype: first().dtype, shape: [b, c / (bs * bs), h * bs, w * bs] }];
    }
    case 'Gather': {
      const data = first().shape;
      const idx = input(ctx, 1).shape;
      const axis = normAxis(ctx, intAttr(ctx, 'axis', 0), data.length);
      return [{ dtype: first().dtype, shape: [...data.slice(0, axis), ...idx, ...data.slice(axis + 1)] }];
    }
    case 'Unsqueeze': {
      const x = first().shape;
      const axes = constInput(ctx, 1);
      const rank = x.length + axes.length;
      const norm = axes.map((a) => normAxis(ctx, a, rank));
      const out: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : x[j++]);
      return [{ dtype: first().dtype, shape: out }];
    }
    case 'ReduceMean': {
      const x = first().shape;
      const axes = (ctx.inputs[1] ? constInput(ctx, 1) : x.map((_, i) => i)).map((a) => normAxis(ctx, a, x.length));
      const keep = intAttr(ctx, 'keepdims', 1) === 1;
      const out: number[] = [];
      x.forEach((d, i) => {
        if (!axes.includes(i)) out.push(d);
        else if (keep) out.push(1);
      });
      return [{ dtype: first().dtype, shape: out }];
    }
    default:
      throw new GraphError('graph_unknown_op', `${op} ${ctx.nodeName}: no shape inference for this operator`);
  }
}

/** Output types of one node; throws GraphError with the node's name when inputs do not fit. */
export function inferNode(ctx: InferenceContext): ValueType[] {
  const out = infer(ctx);
  if (out.length !== ctx.outputCount) fail(ctx, `expected ${ctx.outputCount} outputs, inferred ${out.length}`);
  return out;
}

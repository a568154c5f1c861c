// The ONNX graph builder: a small typed API that records nodes with statically inferred shapes and
// emits ModelProto bytes. Weights are initializers named after their checkpoint keys whose bytes
// live outside the protobuf ("external data"): `build()` lays them out in one or more in-memory
// files and returns where each one goes, and runtime/weights.ts fills those files from a checkpoint.
//
//   const g = new GraphBuilder({ name: 'demo' });
//   const x = g.input('x', 'float32', [2, 4, 8, 8]);
//   const y = g.op('Conv', [x, g.weight('conv.weight'), g.weight('conv.bias')], { pads: [1, 1, 1, 1] });
//   g.output(y, 'y');
//   const built = g.build();   // built.model: Uint8Array, built.weights: where each tensor goes
import { DATA_TYPE_BYTES, encodeModel } from './onnx-proto.js';
import type { AttributeValue, DataType, NodeMessage, TensorMessage, ValueInfoMessage } from './onnx-proto.js';
import { inferNode } from './shape-inference.js';
import type { AttrInput } from './shape-inference.js';
import { GraphError } from './graph-error.js';

export type { DataType } from './onnx-proto.js';
export type { AttrInput } from './shape-inference.js';

/** A tensor in the graph under construction, with its static type. */
export interface Value {
  readonly name: string;
  readonly dtype: DataType;
  readonly shape: readonly number[];
}

/** Output tile side m of a Winograd F(m×m, 3×3) convolution (native/graph/ops-winograd.ts). */
export type WinogradTile = 2 | 4;

/** 'fp32': everything float32 (portable, CPU). 'fp16': weights and activations float16 (CUDA). */
export type Precision = 'fp32' | 'fp16';

/** Where one checkpoint tensor goes in the external data, and how it is laid out there. */
export interface WeightBinding {
  /** Checkpoint key, also the initializer's name. */
  readonly key: string;
  readonly dtype: DataType;
  /** Shape in the graph; same element count as in the checkpoint. */
  readonly shape: readonly number[];
  /** 2-D weights stored transposed ([out, in] -> [in, out]) so that MatMul needs no Transpose node. */
  readonly transpose: boolean;
  /**
   * A [O, C, 3, 3] kernel stored as Winograd F(m×m, 3×3) kernels G·w·Gᵀ, laid out [(m+2)², O, C]
   * (native/graph/ops-winograd.ts); the transform runs once when the weights are filled.
   */
  readonly winograd?: WinogradTile;
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export interface BuiltGraph {
  readonly name: string;
  readonly model: Uint8Array;
  readonly weights: readonly WeightBinding[];
  readonly externalFiles: ReadonlyArray<{ readonly path: string; readonly byteLength: number }>;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  /** Nodes per operator type, e.g. `{ Conv: 98, MultiHeadAttention: 32, ... }`. */
  readonly opCounts: Readonly<Record<string, number>>;
}

export interface GraphBuilderOptions {
  name: string;
  precision?: Precision;
  /** Checkpoint shapes, so that `weight()` can default and check shapes at build time. */
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Largest external data file; tensors never straddle files. Default 1 GiB. */
  maxExternalFileBytes?: number;
}

export interface WeightOptions {
  /** Shape to declare in the graph (a reshape of the checkpoint's, e.g. [C] -> [C, 1, 1]). */
  shape?: readonly number[];
  transpose?: boolean;
  /** Store a 3×3 conv kernel as Winograd F(m×m, 3×3) kernels [(m+2)², O, C] (see WeightBinding). */
  winograd?: WinogradTile;
  /** Defaults to the builder's float type. */
  dtype?: DataType;
}

export interface OpOptions {
  domain?: string;
  /** Node name; defaults to `<scope>/<OpType>`. Made unique with a `#n` suffix when taken. */
  name?: string;
  outputs?: number;
}

const OPSET = 21;
const IR_VERSION = 10;
const EXTERNAL_ALIGN = 64;
const DEFAULT_MAX_FILE = 1 << 30;

/** A FLOAT attribute (plain numbers are INT attributes). */
export function float(value: number): { readonly float: number } {
  return { float: value };
}

export function floats(values: readonly number[]): { readonly floats: readonly number[] } {
  return { floats: values };
}

/** A data type attribute, e.g. Cast's `to`. */
export function dtypeAttr(dtype: DataType): { readonly dtype: DataType } {
  return { dtype };
}

const DTYPE_ENUM: Record<DataType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11,
};

function toAttribute(name: string, v: AttrInput): AttributeValue {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new GraphError('graph_bad_attribute', `attribute ${name}=${v}: wrap floats with float()`);
    return { kind: 'int', value: v };
  }
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) {
      if (!v.every((x) => Number.isInteger(x))) throw new GraphError('graph_bad_attribute', `attribute ${name}: wrap floats with floats()`);
      return { kind: 'ints', value: v as readonly number[] };
    }
    return { kind: 'strings', value: v as readonly string[] };
  }
  if ('float' in (v as object)) return { kind: 'float', value: (v as { float: number }).float };
  if ('floats' in (v as object)) return { kind: 'floats', value: (v as { floats: readonly number[] }).floats };
  return { kind: 'int', value: DTYPE_ENUM[(v as { dtype: DataType }).dtype] };
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function encodeConstant(dtype: DataType, values: readonly number[]): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'int64': {
      const a = new BigInt64Array(n);
      values.forEach((v, i) => (a[i] = BigInt(v)));
      return new Uint8Array(a.buffer);
    }
    case 'int32':
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'float32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'float64':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'float16': {
      const a = new Uint16Array(n);
      values.forEach((v, i) => (a[i] = float32ToHalfBits(v)));
      return new Uint8Array(a.buffer);
    }
    default:
      throw new GraphError('graph_bad_attribute', `constants of type ${dtype} are not supported`);
  }
}

// Round-to-nearest-even float32 -> binary16 for the few inline constants of fp16 graphs (weights
// are converted in bulk by native/io/dtype.ts).
function float32ToHalfBits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

export class GraphBuilder {
  readonly name: string;
  readonly precision: Precision;
  private readonly weightShape?: (key: string) => readonly number[] | undefined;
  private readonly maxFileBytes: number;

  private readonly nodes: NodeMessage[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly constants: TensorMessage[] = [];
  private readonly constValues = new Map<string, readonly number[]>();
  private readonly constCache = new Map<string, Value>();
  private readonly weightRefs = new Map<string, { value: Value; transpose: boolean; winograd?: WinogradTile }>();
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly scopes: string[] = [];
  private counter = 0;
  private domains = new Set<string>();
  private readonly dynamicDims = new Map<string, ReadonlyArray<string | undefined>>();

  constructor(opts: GraphBuilderOptions) {
    this.name = opts.name;
    this.precision = opts.precision ?? 'fp32';
    this.weightShape = opts.weightShape;
    this.maxFileBytes = opts.maxExternalFileBytes ?? DEFAULT_MAX_FILE;
  }

  /** The float type of activations and weights: float32, or float16 in the fp16 lowering. */
  get floatType(): DataType {
    return this.precision === 'fp16' ? 'float16' : 'float32';
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new GraphError('graph_duplicate_name', `value name ${name} is already used`);
    this.names.add(name);
    return name;
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.names.has(name));
    return this.claim(name);
  }

  /** Runs `fn` with `name` appended to the scope used for node and value names. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private get scopePrefix(): string {
    return this.scopes.length ? `${this.scopes.join('/')}/` : '';
  }

  /**
   * A graph input. `dynamic` names dimensions whose size varies per run (`dim_param`): the builder
   * infers with the sample size given in `shape`, so a graph with dynamic dimensions must never bake
   * that size into a constant (reshape with -1 / 0 instead).
   */
  input(name: string, dtype: DataType, shape: readonly number[], dynamic?: ReadonlyArray<string | undefined>): Value {
    const v: Value = { name: this.claim(name), dtype, shape: [...shape] };
    this.inputs.push(v);
    if (dynamic) this.dynamicDims.set(v.name, dynamic);
    return v;
  }

  /** Marks `value` as a graph output called `name` (through an Identity when the names differ). */
  output(value: Value, name: string, dynamic?: ReadonlyArray<string | undefined>): Value {
    let out = value;
    if (dynamic) this.dynamicDims.set(name, dynamic);
    if (value.name !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', name: `output/${name}`, inputs: [value.name], outputs: [name], attributes: [] });
      out = { name, dtype: value.dtype, shape: value.shape };
    }
    this.outputs.push(out);
    return out;
  }

  /** The checkpoint's shape of `key` (undefined when unknown), without binding the weight. */
  checkpointShape(key: string): readonly number[] | undefined {
    return this.weightShape?.(key);
  }

  /** An initializer bound to checkpoint tensor `key`, filled from external data at session creation. */
  weight(key: string, opts: WeightOptions = {}): Value {
    const transpose = opts.transpose ?? false;
    const winograd = opts.winograd;
    const cached = this.weightRefs.get(key);
    if (cached) {
      if (cached.transpose !== transpose || cached.winograd !== winograd) {
        throw new GraphError('graph_duplicate_name', `weight ${key} is used in two layouts`);
      }
      return cached.value;
    }
    const source = this.weightShape?.(key);
    if (this.weightShape && !source) throw new GraphError('graph_missing_weight', `checkpoint has no tensor ${key}`);
    let shape = opts.shape ?? source;
    if (!shape) throw new GraphError('graph_missing_weight', `weight ${key}: shape unknown (no checkpoint shapes given)`);
    if (source && elementCount(source) !== elementCount(shape)) {
      throw new GraphError('graph_shape_mismatch', `weight ${key}: checkpoint shape [${source.join(',')}] does not fit [${shape.join(',')}]`);
    }
    if (transpose) {
      if (shape.length !== 2) throw new GraphError('graph_shape_mismatch', `weight ${key}: only 2-D weights can be transposed`);
      shape = [shape[1], shape[0]];
    }
    if (winograd) {
      if (shape.length !== 4 || shape[2] !== 3 || shape[3] !== 3) {
        throw new GraphError('graph_shape_mismatch', `weight ${key}: only [O, C, 3, 3] kernels have Winograd forms, got [${shape.join(',')}]`);
      }
      shape = [(winograd + 2) ** 2, shape[0], shape[1]];
    }
    const value: Value = { name: this.claim(key), dtype: opts.dtype ?? this.floatType, shape: [...shape] };
    this.weightRefs.set(key, { value, transpose, ...(winograd ? { winograd } : {}) });
    return value;
  }

  /** An inline constant; small integer/float vectors are deduplicated by content. */
  constant(dtype: DataType, shape: readonly number[], values: readonly number[], hint = 'const'): Value {
    if (elementCount(shape) !== values.length) {
      throw new GraphError('graph_shape_mismatch', `constant ${hint}: ${values.length} values for shape [${shape.join(',')}]`);
    }
    const small = values.length <= 64;
    const cacheKey = small ? `${dtype}|${shape.join(',')}|${values.join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(cacheKey);
      if (hit) return hit;
    }
    const name = this.fresh(`${this.scopePrefix}${hint}`);
    this.constants.push({ name, dataType: dtype, dims: [...shape], rawData: encodeConstant(dtype, values) });
    const v: Value = { name, dtype, shape: [...shape] };
    if (small) {
      this.constCache.set(cacheKey, v);
      this.constValues.set(name, values);
    }
    return v;
  }

  /** 1-D int64 constant (shapes, axes, sizes). */
  ints(values: readonly number[]): Value {
    return this.constant('int64', [values.length], values, 'ints');
  }

  /** A scalar of the graph's float type (or `dtype`), shaped [1] so it broadcasts anywhere. */
  scalar(value: number, dtype: DataType = this.floatType): Value {
    return this.constant(dtype, [1], [value], 'scalar');
  }

  /** Adds one node with a single output and returns it. */
  op(opType: string, inputs: ReadonlyArray<Value | null>, attrs: Record<string, AttrInput> = {}, opts: OpOptions = {}): Value {
    return this.opN(opType, inputs, attrs, { ...opts, outputs: 1 })[0];
  }

  /** Adds one node with `opts.outputs` outputs. */
  opN(opType: string, inputs: ReadonlyArray<Value | null>, attrs: Record<string, AttrInput> = {}, opts: OpOptions = {}): Value[] {
    const domain = opts.domain ?? '';
    const outputCount = opts.outputs ?? 1;
    let nodeName = opts.name ?? `${this.scopePrefix}${opType}`;
    if (this.nodeNames.has(nodeName)) {
      let i = 1;
      while (this.nodeNames.has(`${nodeName}#${i}`)) i++;
      nodeName = `${nodeName}#${i}`;
    }
    this.nodeNames.add(nodeName);
    const types = inferNode({
      opType,
      domain,
      nodeName,
      inputs,
      attrs,
      constValues: inputs.map((v) => (v ? this.constValues.get(v.name) : undefined)),
      outputCount,
    });
    const outputs = types.map((t) => ({ name: this.fresh(`${nodeName}:${opType}`), dtype: t.dtype, shape: t.shape }));
    if (domain) this.domains.add(domain);
    this.nodes.push({
      opType,
      domain,
      name: nodeName,
      // Trailing absent optional inputs are dropped; inner ones are written as ''.
      inputs: trimTrailing(inputs.map((v) => (v ? v.name : ''))),
      outputs: outputs.map((o) => o.name),
      attributes: Object.entries(attrs).map(([k, v]) => [k, toAttribute(k, v)] as [string, AttributeValue]),
    });
    return outputs;
  }

  /** Lays out external data and serialises the model. */
  build(metadata?: Record<string, string>): BuiltGraph {
    if (this.outputs.length === 0) throw new GraphError('graph_bad_config', `graph ${this.name} has no outputs`);
    const weights: WeightBinding[] = [];
    const files: Array<{ path: string; byteLength: number }> = [];
    const initializers: TensorMessage[] = [...this.constants];
    let file = -1;
    let offset = 0;
    for (const [key, { value, transpose, winograd }] of this.weightRefs) {
      const length = elementCount(value.shape) * DATA_TYPE_BYTES[value.dtype];
      if (file < 0 || (offset > 0 && offset + length > this.maxFileBytes)) {
        file++;
        offset = 0;
        files.push({ path: `weights-${file}.bin`, byteLength: 0 });
      }
      const path = files[file].path;
      weights.push({ key, dtype: value.dtype, shape: value.shape, transpose, ...(winograd ? { winograd } : {}), file: path, offset, length });
      initializers.push({ name: key, dataType: value.dtype, dims: value.shape, external: { location: path, offset, length } });
      files[file].byteLength = offset + length;
      offset = Math.ceil((offset + length) / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    }
    const info = (v: Value): ValueInfoMessage => {
      const dynamic = this.dynamicDims.get(v.name);
      return { name: v.name, dataType: v.dtype, dims: v.shape.map((d, i) => dynamic?.[i] ?? d) };
    };
    const model = encodeModel({
      irVersion: IR_VERSION,
      opsetImports: [{ domain: '', version: OPSET }, ...[...this.domains].map((d) => ({ domain: d, version: 1 }))],
      producerName: 'easel',
      producerVersion: '0.1',
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers,
        inputs: this.inputs.map(info),
        outputs: this.outputs.map(info),
      },
      metadata,
    });
    const opCounts: Record<string, number> = {};
    for (const n of this.nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
    return { name: this.name, model, weights, externalFiles: files, inputs: [...this.inputs], outputs: [...this.outputs], opCounts };
  }
}

function trimTrailing(names: string[]): string[] {
  let n = names.length;
  while (n > 0 && names[n - 1] === '') n--;
  return names.slice(0, n);
}

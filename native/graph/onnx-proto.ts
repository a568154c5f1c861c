// The subset of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto) that the
// graph builder emits, as plain typed objects plus their wire encoding. Field numbers are those
// of onnx/onnx.proto (github.com/onnx/onnx/blob/main/onnx/onnx.proto).
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values. */
export const ONNX_DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;

export type DataType = keyof typeof ONNX_DATA_TYPE;

export const DATA_TYPE_BYTES: Record<DataType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
};

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: TensorMessage };

export interface NodeMessage {
  opType: string;
  domain?: string;
  name?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: ReadonlyArray<[string, AttributeValue]>;
}

export interface TensorMessage {
  name: string;
  dataType: DataType;
  dims: readonly number[];
  /** Inline little-endian bytes, or `external` for data handed to ONNX Runtime separately. */
  rawData?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

export interface ValueInfoMessage {
  name: string;
  dataType: DataType;
  /** A string is a symbolic dimension (`dim_param`): its size is chosen per run. */
  dims: ReadonlyArray<number | string>;
}

export interface GraphMessage {
  name: string;
  nodes: readonly NodeMessage[];
  initializers: readonly TensorMessage[];
  inputs: readonly ValueInfoMessage[];
  outputs: readonly ValueInfoMessage[];
}

export interface ModelMessage {
  irVersion: number;
  opsetImports: ReadonlyArray<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  graph: GraphMessage;
  metadata?: Record<string, string>;
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function writeAttribute(w: ProtoWriter, name: string, attr: AttributeValue): void {
  w.string(1, name);
  w.int(20, ATTR_TYPE[attr.kind]);
  switch (attr.kind) {
    case 'float':
      w.float(2, attr.value);
      break;
    case 'int':
      w.int(3, attr.value);
      break;
    case 'string':
      w.string(4, attr.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, attr.value));
      break;
    // proto2 repeated scalars without [packed=true]: one tag per element.
    case 'floats':
      for (const v of attr.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of attr.value) w.int(8, v);
      break;
    case 'strings':
      for (const v of attr.value) w.string(9, v);
      break;
  }
}

function writeTensor(w: ProtoWriter, t: TensorMessage): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_DATA_TYPE[t.dataType]);
  w.string(8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  if (t.external) {
    const entries: Array<[string, string]> = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [key, value] of entries) {
      w.message(13, (e) => e.string(1, key).string(2, value));
    }
    w.int(14, 1); // DataLocation.EXTERNAL
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoMessage): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ONNX_DATA_TYPE[v.dataType]);
      tensorType.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.int(1, d)));
      });
    }),
  );
}

function writeNode(w: ProtoWriter, n: NodeMessage): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, attr] of n.attributes) w.message(5, (a) => writeAttribute(a, name, attr));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: ProtoWriter, g: GraphMessage): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialises a ModelProto. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const op of model.opsetImports) {
    w.message(8, (m) => {
      if (op.domain) m.string(1, op.domain);
      m.int(2, op.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish();
}

// Test helper: a small pickle writer that emits what CPython's pickler and torch.save emit
// (protocol 2 by default: GLOBAL, BINUNICODE, BININT*, BINFLOAT, MARK/TUPLE, EMPTY_DICT +
// SETITEMS, REDUCE, BINPERSID, BINPUT), so tests can build torch files — honest or hostile —
// without Python. Not used by production code.
import type { DType } from '../dtype.js';

/** A tensor as torch.save pickles it: a strided view of a storage. */
export interface PyTensor {
  storage: string;
  /** The storage's dtype and element count, as in the persistent id. */
  dtype: DType;
  storageNumel: number;
  offset?: number;
  shape: number[];
  /** Row-major strides when absent. */
  stride?: number[];
  /** Wrap in `torch._utils._rebuild_parameter` like an nn.Parameter. */
  parameter?: boolean;
}

/** A Python value to write. Plain arrays are lists; numbers are ints when integral. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | { readonly tuple: PyValue[] }
  | { readonly float: number }
  | { readonly dict: [PyValue, PyValue][]; readonly ordered?: boolean }
  | { readonly tensor: PyTensor }
  | { readonly global: readonly [string, string] }
  | { readonly call: readonly [string, string]; readonly args: PyValue[]; readonly state?: PyValue };

export interface PickleWriterOptions {
  protocol?: number;
  /** Use STACK_GLOBAL (protocol 4) instead of GLOBAL. */
  stackGlobal?: boolean;
}

export const STORAGE_CLASS_OF: Record<DType, string> = {
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

/** Opcode-level writer; `value()` serialises a whole PyValue tree. */
export class PickleWriter {
  private readonly parts: number[] = [];
  private memoNext = 0;

  constructor(private readonly opts: PickleWriterOptions = {}) {}

  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }

  text(s: string): this {
    for (const c of new TextEncoder().encode(s)) this.parts.push(c);
    return this;
  }

  proto(): this {
    return this.op(0x80, this.opts.protocol ?? 2);
  }

  stop(): this {
    return this.op(0x2e);
  }

  mark(): this {
    return this.op(0x28);
  }

  put(): this {
    const i = this.memoNext++;
    return i < 256 ? this.op(0x71, i) : this.op(0x72, ...u32(i));
  }

  global(module: string, name: string): this {
    if (this.opts.stackGlobal) return this.str(module).str(name).op(0x93);
    return this.op(0x63).text(`${module}\n${name}\n`);
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58, ...u32(b.length));
    for (const c of b) this.parts.push(c);
    return this;
  }

  int(n: number | bigint): this {
    const x = BigInt(n);
    if (x >= 0n && x < 256n) return this.op(0x4b, Number(x));
    if (x >= 0n && x < 65536n) return this.op(0x4d, Number(x) & 0xff, Number(x) >> 8);
    if (x >= -(2n ** 31n) && x < 2n ** 31n) return this.op(0x4a, ...u32(Number(BigInt.asUintN(32, x))));
    const bytes: number[] = [];
    let v = x;
    // little-endian two's complement, shortest form that keeps the sign
    for (;;) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      const signBit = (bytes[bytes.length - 1] & 0x80) !== 0;
      if ((v === 0n && !signBit) || (v === -1n && signBit)) break;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }

  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.op(0x47, ...b);
  }

  bytes(b: Uint8Array): this {
    if ((this.opts.protocol ?? 2) < 3) {
      // protocol 2 has no bytes opcode: CPython writes _codecs.encode(latin-1 text, 'latin1')
      let s = '';
      for (const c of b) s += String.fromCharCode(c);
      return this.global('_codecs', 'encode').mark().str(s).str('latin1').op(0x74).op(0x52);
    }
    return this.op(0x42, ...u32(b.length), ...b);
  }

  /** Writes a value the way CPython / torch would (memoising containers like the real pickler). */
  value(v: PyValue): this {
    if (v === null) return this.op(0x4e);
    if (v === true) return this.op(0x88);
    if (v === false) return this.op(0x89);
    if (typeof v === 'number') return Number.isInteger(v) ? this.int(v) : this.float(v);
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'string') return this.str(v).put();
    if (v instanceof Uint8Array) return this.bytes(v).put();
    if (Array.isArray(v)) {
      this.op(0x5d).put();
      if (v.length === 0) return this;
      this.mark();
      for (const x of v) this.value(x);
      return this.op(0x65);
    }
    if ('tuple' in v) {
      if (v.tuple.length === 0) return this.op(0x29);
      this.mark();
      for (const x of v.tuple) this.value(x);
      return this.op(0x74).put();
    }
    if ('float' in v) return this.float(v.float);
    if ('dict' in v) {
      if (v.ordered) this.global('collections', 'OrderedDict').put().op(0x29, 0x52).put();
      else this.op(0x7d).put();
      if (v.dict.length === 0) return this;
      this.mark();
      for (const [k, x] of v.dict) this.value(k).value(x);
      return this.op(0x75);
    }
    if ('tensor' in v) return this.tensor(v.tensor);
    if ('global' in v) return this.global(v.global[0], v.global[1]).put();
    this.global(v.call[0], v.call[1]).put();
    this.value({ tuple: v.args });
    this.op(0x52).put();
    if (v.state !== undefined) this.value(v.state).op(0x62);
    return this;
  }

  /** torch.save's form: _rebuild_tensor_v2(('storage', cls, key, 'cpu', numel) BINPERSID, offset, size, stride, False, OrderedDict()). */
  tensor(t: PyTensor): this {
    if (t.parameter) this.global('torch._utils', '_rebuild_parameter').put().mark();
    this.global('torch._utils', '_rebuild_tensor_v2').put();
    this.mark();
    this.mark().str('storage').global('torch', STORAGE_CLASS_OF[t.dtype]).put().str(t.storage).str('cpu').int(t.storageNumel).op(0x74).put().op(0x51);
    this.int(t.offset ?? 0);
    this.value({ tuple: t.shape });
    this.value({ tuple: t.stride ?? rowMajorStrides(t.shape) });
    this.op(0x89);
    this.global('collections', 'OrderedDict').put().op(0x29, 0x52).put();
    this.op(0x74).put().op(0x52).put();
    if (t.parameter) {
      this.op(0x89);
      this.global('collections', 'OrderedDict').put().op(0x29, 0x52).put();
      this.op(0x74).put().op(0x52).put();
    }
    return this;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A complete pickle of one value: PROTO, the value, STOP. */
export function pickleValue(v: PyValue, opts: PickleWriterOptions = {}): Uint8Array {
  return new PickleWriter(opts).proto().value(v).stop().toBytes();
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

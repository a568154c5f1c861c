// A restricted pickle interpreter (protocols 0-5) for reading torch.save files without Python.
//
// Pickle is a stack machine whose GLOBAL / STACK_GLOBAL opcodes import any Python callable and
// whose REDUCE / NEWOBJ / INST / OBJ / BUILD opcodes call it; that is how a malicious .ckpt runs
// `os.system`. Here nothing is ever imported: a global resolves only through the caller's
// allow-list (a table of small TypeScript handlers), and anything else stops the run with
// code `unsafe_pickle` naming the global, before another opcode is read. Calls are only possible
// on values that came from that table, BUILD only sets inert state, persistent ids go to the
// caller's `persistentLoad` hook, and extension-registry codes (EXT1/2/4), which are another
// route to globals, are refused too.
//
// Opcode reference: CPython Lib/pickletools.py and Lib/pickle.py (`_Unpickler.dispatch`).
// Python values map to: None → null, bool → boolean, int → number (bigint beyond 2^53), float →
// number, str → string, bytes / bytearray → Uint8Array, list and tuple → array, dict → Map,
// set / frozenset → `{ $class: 'builtins.set' | 'builtins.frozenset', state: items }`.
import { decodeLong, normalizeInt, rawUnicodeEscape, unescapeStringLiteral, utf8 } from './pickle-literals.js';

/** A tensor rebuilt from a torch file; its data is read on demand. */
export interface TorchTensor {
  readonly dtype: 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
  readonly shape: readonly number[];
  toFloat32(): Promise<Float32Array>;
}

export type PickleKey = string | number | bigint | boolean | null;

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | TorchTensor
  | PickleValue[]
  | Map<PickleKey, PickleValue>
  | { readonly $class: string; readonly state?: PickleValue };

export type PickleErrorCode = 'unsafe_pickle' | 'bad_pickle' | 'unsupported_pickle';

export class PickleError extends Error {
  override readonly name = 'PickleError';
  constructor(
    readonly code: PickleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What an allow-listed global does when the pickle calls it (REDUCE, NEWOBJ, INST, OBJ). */
export interface PickleGlobalHandler {
  /** Missing: the global may only be used as a value (a storage class, a type marker). */
  readonly call?: (args: PickleValue[], self: PickleGlobal) => PickleValue;
}

/** A resolved, allow-listed global as it sits on the stack; `$class` is `module.name`. */
export class PickleGlobal {
  constructor(
    readonly $class: string,
    readonly handler: PickleGlobalHandler,
  ) {}
}

/** An inert object: what a placeholder class or a set becomes. BUILD fills `state`. */
export class PickleObject {
  constructor(
    readonly $class: string,
    public state?: PickleValue,
  ) {}
}

export interface UnpickleOptions {
  /** The allow-list, keyed by `module.name` (after Python 2 module renames). */
  readonly globals: ReadonlyMap<string, PickleGlobalHandler>;
  /** PERSID / BINPERSID; without it persistent ids are refused. */
  readonly persistentLoad?: (pid: PickleValue) => PickleValue;
}

export interface UnpickleResult {
  readonly value: PickleValue;
  /** Offset just past the STOP opcode (legacy torch files hold several pickles back to back). */
  readonly end: number;
}

const HIGHEST_PROTOCOL = 5;
// Python 3 unpicklers map these Python 2 module names (Lib/_compat_pickle.py); protocol 2 files
// written by torch under Python 3 name `builtins` as `__builtin__`.
const MODULE_RENAMES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

/**
 * Runs one pickle. Example:
 * `const { value } = unpickle(bytes, { globals: new Map([['collections.OrderedDict', { call: () => new Map() }]]) });`
 * Throws PickleError: `unsafe_pickle` for a global outside `globals`, `bad_pickle` for malformed
 * streams, `unsupported_pickle` for valid features torch files never use.
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions, start = 0): UnpickleResult {
  return new Machine(bytes, opts, start).run();
}

/** Whether the bytes start like a binary pickle (PROTO opcode with a known protocol). */
export function looksLikePickle(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= HIGHEST_PROTOCOL;
}

class Machine {
  private pos: number;
  private stack: Slot[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  // tuples are arrays too, but immutable in Python: APPEND on one is an error there and here
  private readonly tuples = new WeakSet<PickleValue[]>();
  private op = 0;
  private opAt = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly opts: UnpickleOptions,
    start: number,
  ) {
    this.pos = start;
  }

  run(): UnpickleResult {
    for (;;) {
      if (this.pos >= this.b.length) throw this.bad('stream ends without STOP');
      this.opAt = this.pos;
      this.op = this.b[this.pos++];
      if (this.step()) {
        const value = this.pop();
        return { value, end: this.pos };
      }
    }
  }

  /** Executes one opcode; true on STOP. */
  private step(): boolean {
    const op = this.op;
    switch (op) {
      case 0x2e: // STOP '.'
        return true;
      case 0x80: {
        // PROTO
        const proto = this.u8();
        if (proto > HIGHEST_PROTOCOL) throw new PickleError('unsupported_pickle', `pickle protocol ${proto} is newer than ${HIGHEST_PROTOCOL}`);
        return false;
      }
      case 0x95: // FRAME: a size hint for buffered readers; the whole stream is in memory
        this.take(8);
        return false;
      case 0x28: // MARK '('
        this.marks.push(this.stack.length);
        this.stack.push(MARK);
        return false;
      case 0x30: // POP '0'
        this.pop();
        return false;
      case 0x31: // POP_MARK '1'
        this.popMark();
        return false;
      case 0x32: // DUP '2'
        this.push(this.top());
        return false;
      case 0x4e: // NONE 'N'
        this.push(null);
        return false;
      case 0x88: // NEWTRUE
        this.push(true);
        return false;
      case 0x89: // NEWFALSE
        this.push(false);
        return false;
      case 0x49: {
        // INT 'I': decimal line; "01"/"00" are protocol 0's booleans
        const line = this.line();
        if (line === '01') this.push(true);
        else if (line === '00') this.push(false);
        else this.push(this.parseInt(line));
        return false;
      }
      case 0x4a: // BININT 'J'
        this.push(this.view(4).getInt32(0, true));
        return false;
      case 0x4b: // BININT1 'K'
        this.push(this.u8());
        return false;
      case 0x4d: // BININT2 'M'
        this.push(this.view(2).getUint16(0, true));
        return false;
      case 0x4c: // LONG 'L': decimal line with optional trailing L
        this.push(this.parseInt(this.line().replace(/L$/, '')));
        return false;
      case 0x8a: // LONG1
        this.push(decodeLong(this.take(this.u8())));
        return false;
      case 0x8b: {
        // LONG4
        const n = this.view(4).getInt32(0, true);
        if (n < 0) throw this.bad(`negative LONG4 length ${n}`);
        this.push(decodeLong(this.take(n)));
        return false;
      }
      case 0x46: {
        // FLOAT 'F'
        // Python's repr spells the specials inf / -inf / nan, which Number() does not read
        const line = this.line().trim();
        const special = /^([-+]?)(inf|nan)$/i.exec(line);
        const x = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(line);
        if (line === '' || (Number.isNaN(x) && !special)) throw this.bad(`bad float literal ${JSON.stringify(line)}`);
        this.push(x);
        return false;
      }
      case 0x47: // BINFLOAT 'G': big-endian float64
        this.push(this.view(8).getFloat64(0, false));
        return false;
      case 0x53: // STRING 'S': a quoted Python 2 str literal
        this.push(unescapeStringLiteral(this.line(), (m) => this.bad(m)));
        return false;
      case 0x54: // BINSTRING 'T'
        this.push(utf8(this.take(this.u32())));
        return false;
      case 0x55: // SHORT_BINSTRING 'U'
        this.push(utf8(this.take(this.u8())));
        return false;
      case 0x56: // UNICODE 'V': raw-unicode-escape line
        this.push(rawUnicodeEscape(this.lineBytes(), (m) => this.bad(m)));
        return false;
      case 0x58: // BINUNICODE 'X'
        this.push(utf8(this.take(this.u32())));
        return false;
      case 0x8c: // SHORT_BINUNICODE
        this.push(utf8(this.take(this.u8())));
        return false;
      case 0x8d: // BINUNICODE8
        this.push(utf8(this.take(this.u64())));
        return false;
      case 0x42: // BINBYTES 'B'
        this.push(this.take(this.u32()).slice());
        return false;
      case 0x43: // SHORT_BINBYTES 'C'
        this.push(this.take(this.u8()).slice());
        return false;
      case 0x8e: // BINBYTES8
        this.push(this.take(this.u64()).slice());
        return false;
      case 0x96: // BYTEARRAY8
        this.push(this.take(this.u64()).slice());
        return false;
      case 0x97: // NEXT_BUFFER
        throw new PickleError('unsupported_pickle', `out-of-band buffers (NEXT_BUFFER at byte ${this.opAt}) are not supported`);
      case 0x98: // READONLY_BUFFER: a flag on the top buffer; bytes here are copies anyway
        this.top();
        return false;
      case 0x29: // EMPTY_TUPLE ')'
        this.push(this.tuple([]));
        return false;
      case 0x74: // TUPLE 't'
        this.push(this.tuple(this.popMark()));
        return false;
      case 0x85: // TUPLE1
        this.push(this.tuple(this.popN(1)));
        return false;
      case 0x86: // TUPLE2
        this.push(this.tuple(this.popN(2)));
        return false;
      case 0x87: // TUPLE3
        this.push(this.tuple(this.popN(3)));
        return false;
      case 0x5d: // EMPTY_LIST ']'
        this.push([]);
        return false;
      case 0x6c: // LIST 'l'
        this.push(this.popMark());
        return false;
      case 0x61: {
        // APPEND 'a'
        const v = this.pop();
        this.list(this.top()).push(v);
        return false;
      }
      case 0x65: {
        // APPENDS 'e'
        const items = this.popMark();
        const list = this.list(this.top());
        // a loop, not push(...items): spreading a huge batch overflows the call stack
        for (const item of items) list.push(item);
        return false;
      }
      case 0x7d: // EMPTY_DICT '}'
        this.push(new Map());
        return false;
      case 0x64: {
        // DICT 'd'
        const items = this.popMark();
        this.push(this.setItems(new Map(), items));
        return false;
      }
      case 0x73: {
        // SETITEM 's'
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.dict(this.top()), [k, v]);
        return false;
      }
      case 0x75: {
        // SETITEMS 'u'
        const items = this.popMark();
        this.setItems(this.dict(this.top()), items);
        return false;
      }
      case 0x8f: // EMPTY_SET
        this.push(new PickleObject('builtins.set', []));
        return false;
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        const target = this.top();
        if (!(target instanceof PickleObject) || target.$class !== 'builtins.set' || !Array.isArray(target.state)) {
          throw this.bad(`ADDITEMS needs a set, found ${describe(target)}`);
        }
        for (const item of items) target.state.push(item);
        return false;
      }
      case 0x91: // FROZENSET
        this.push(new PickleObject('builtins.frozenset', this.popMark()));
        return false;
      case 0x70: // PUT 'p'
        this.memo.set(this.memoIndex(this.line()), this.top());
        return false;
      case 0x71: // BINPUT 'q'
        this.memo.set(this.u8(), this.top());
        return false;
      case 0x72: // LONG_BINPUT 'r'
        this.memo.set(this.u32(), this.top());
        return false;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        return false;
      case 0x67: // GET 'g'
        this.push(this.memoGet(this.memoIndex(this.line())));
        return false;
      case 0x68: // BINGET 'h'
        this.push(this.memoGet(this.u8()));
        return false;
      case 0x6a: // LONG_BINGET 'j'
        this.push(this.memoGet(this.u32()));
        return false;
      case 0x63: {
        // GLOBAL 'c': "module\nname\n"
        const module = this.line();
        const name = this.line();
        this.push(this.resolve(module, name));
        return false;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.bad(`STACK_GLOBAL needs two strings, found ${describe(module)} and ${describe(name)}`);
        this.push(this.resolve(module, name));
        return false;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4: codes registered with copyreg.add_extension, i.e. globals by number
        const code = op === 0x82 ? this.u8() : op === 0x83 ? this.view(2).getUint16(0, true) : this.view(4).getInt32(0, true);
        throw new PickleError('unsafe_pickle', `pickle refers to a global through extension code ${code} (byte ${this.opAt}); not allowed`);
      }
      case 0x52: {
        // REDUCE 'R'
        const args = this.pop();
        const fn = this.pop();
        this.push(this.call(fn, args, 'REDUCE'));
        return false;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call(cls, args, 'NEWOBJ'));
        return false;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs); keyword arguments are not passed to handlers
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(kwargs instanceof Map)) throw this.bad(`NEWOBJ_EX needs a dict of keyword arguments, found ${describe(kwargs)}`);
        this.push(this.call(cls, args, 'NEWOBJ_EX'));
        return false;
      }
      case 0x69: {
        // INST 'i': "module\nname\n", arguments since the mark
        const module = this.line();
        const name = this.line();
        const cls = this.resolve(module, name);
        const args = this.popMark();
        this.push(this.call(cls, this.tuple(args), 'INST'));
        return false;
      }
      case 0x6f: {
        // OBJ 'o': class and arguments since the mark
        const items = this.popMark();
        if (items.length === 0) throw this.bad('OBJ without a class');
        this.push(this.call(items[0], this.tuple(items.slice(1)), 'OBJ'));
        return false;
      }
      case 0x62: {
        // BUILD 'b': never calls __setstate__; only inert objects take state
        const state = this.pop();
        this.build(this.top(), state);
        return false;
      }
      case 0x50: // PERSID 'P'
        this.push(this.persistent(this.line()));
        return false;
      case 0x51: // BINPERSID 'Q'
        this.push(this.persistent(this.pop()));
        return false;
      default:
        throw this.bad(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private resolve(rawModule: string, name: string): PickleGlobal {
    const module = Object.prototype.hasOwnProperty.call(MODULE_RENAMES, rawModule) ? MODULE_RENAMES[rawModule] : rawModule;
    const qualified = `${module}.${name}`;
    const handler = this.opts.globals.get(qualified);
    if (!handler) {
      throw new PickleError('unsafe_pickle', `pickle wants global '${qualified}' (byte ${this.opAt}), which is not on the allow-list; the file was not loaded`);
    }
    return new PickleGlobal(qualified, handler);
  }

  private call(fn: PickleValue, args: PickleValue, opName: string): PickleValue {
    if (!(fn instanceof PickleGlobal)) throw this.bad(`${opName} on ${describe(fn)}, which is not an allow-listed callable`);
    if (!fn.handler.call) throw this.bad(`${opName} on '${fn.$class}', which may not be called`);
    if (!Array.isArray(args)) throw this.bad(`${opName} needs a tuple of arguments, found ${describe(args)}`);
    return fn.handler.call(args, fn);
  }

  private build(target: PickleValue, state: PickleValue): void {
    if (target instanceof PickleObject) {
      target.state = state;
      return;
    }
    // OrderedDict carries `_metadata` (torch's per-module version table) as instance state,
    // and tensors may carry Python attributes: neither matters for the weights.
    if (target instanceof Map || isTensorLike(target)) return;
    throw this.bad(`BUILD on ${describe(target)}`);
  }

  private persistent(pid: PickleValue): PickleValue {
    if (!this.opts.persistentLoad) throw new PickleError('unsupported_pickle', `persistent id at byte ${this.opAt} but no persistent loader`);
    return this.opts.persistentLoad(pid);
  }

  private setItems(target: Map<PickleKey, PickleValue>, items: PickleValue[]): Map<PickleKey, PickleValue> {
    if (items.length % 2 !== 0) throw this.bad(`odd number of items (${items.length}) for a dict`);
    for (let i = 0; i < items.length; i += 2) target.set(this.key(items[i]), items[i + 1]);
    return target;
  }

  private key(k: PickleValue): PickleKey {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    // Lightning checkpoints key `callbacks` by callback class: keep the class name
    if (k instanceof PickleGlobal) return k.$class;
    throw new PickleError('unsupported_pickle', `dict key of type ${describe(k)} at byte ${this.opAt} is not supported`);
  }

  private list(v: PickleValue): PickleValue[] {
    if (!Array.isArray(v) || this.tuples.has(v)) throw this.bad(`append to ${describe(v)}, which is not a list`);
    return v;
  }

  private dict(v: PickleValue): Map<PickleKey, PickleValue> {
    if (!(v instanceof Map)) throw this.bad(`set item on ${describe(v)}, which is not a dict`);
    return v;
  }

  private tuple(items: PickleValue[]): PickleValue[] {
    this.tuples.add(items);
    return items;
  }

  private memoIndex(line: string): number {
    if (!/^\d+$/.test(line)) throw this.bad(`bad memo index ${JSON.stringify(line)}`);
    return Number(line);
  }

  private memoGet(i: number): PickleValue {
    if (!this.memo.has(i)) throw this.bad(`memo slot ${i} is read before it is written`);
    return this.memo.get(i)!;
  }

  private push(v: PickleValue): void {
    this.stack.push(v);
  }

  private pop(): PickleValue {
    const v = this.stack.pop();
    if (v === undefined) throw this.bad('stack underflow');
    if (v === MARK) throw this.bad('a mark where a value was expected');
    return v;
  }

  private top(): PickleValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined) throw this.bad('stack underflow');
    if (v === MARK) throw this.bad('a mark where a value was expected');
    return v;
  }

  private popN(n: number): PickleValue[] {
    const out: PickleValue[] = new Array<PickleValue>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.pop();
    return out;
  }

  private popMark(): PickleValue[] {
    const at = this.marks.pop();
    if (at === undefined) throw this.bad('no mark on the stack');
    const items = this.stack.splice(at) as Slot[];
    items.shift(); // the mark itself
    if (items.some((s) => s === MARK)) throw this.bad('mark bookkeeping is inconsistent');
    return items as PickleValue[];
  }

  private take(n: number): Uint8Array {
    if (n > this.b.length - this.pos) throw this.bad(`needs ${n} bytes, only ${this.b.length - this.pos} left`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private u32(): number {
    return this.view(4).getUint32(0, true);
  }

  private u64(): number {
    const x = this.view(8).getBigUint64(0, true);
    if (x > BigInt(this.b.length)) throw this.bad(`length ${x} is larger than the stream`);
    return Number(x);
  }

  private lineBytes(): Uint8Array {
    const nl = this.b.indexOf(0x0a, this.pos);
    if (nl < 0) throw this.bad('line without a newline');
    const out = this.b.subarray(this.pos, nl);
    this.pos = nl + 1;
    return out;
  }

  private line(): string {
    let s = '';
    for (const c of this.lineBytes()) s += String.fromCharCode(c);
    return s;
  }

  private parseInt(text: string): number | bigint {
    if (!/^[-+]?\d+$/.test(text)) throw this.bad(`bad integer literal ${JSON.stringify(text)}`);
    return normalizeInt(BigInt(text));
  }

  private bad(message: string): PickleError {
    return new PickleError('bad_pickle', `malformed pickle at byte ${this.opAt} (opcode 0x${this.op.toString(16).padStart(2, '0')}): ${message}`);
  }
}

function isTensorLike(v: PickleValue): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map) && 'toFloat32' in v;
}

/** A short description of a value for error messages (never its content). */
export function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a sequence of ${v.length}`;
  if (v instanceof Map) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickleGlobal) return `global '${v.$class}'`;
  if (typeof v === 'object') return '$class' in v ? `a '${v.$class}' object` : 'a tensor';
  return typeof v;
}

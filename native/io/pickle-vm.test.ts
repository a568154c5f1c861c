import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PickleError, PickleObject, unpickle, type PickleValue } from './pickle-vm.js';
import { PickleWriter, pickleValue, type PyValue } from './testing/pickle-writer.js';
import { torchGlobals } from './torch-globals.js';
import { TorchFileError, TorchStorage } from './torch-tensor.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const load = (bytes: Uint8Array): PickleValue => unpickle(bytes, { globals: torchGlobals() }).value;

// Written by CPython 3 `pickle.dumps(obj, protocol=p)` for
// obj = {'a': [1, 2.5, None, True, False], 'b': ('x', b'\x00\xff'), 'big': 2**70, 'neg': -300,
//        'u': 'h\u00e9\u4e2d\U0001F600', 'n': 65536, 'od': OrderedDict([('k', 1)])}
const CPYTHON: Record<number, string> = {
  0: '286470300a56610a70310a286c70320a49310a6146322e350a614e614930310a614930300a617356620a70330a2856780a70340a635f636f646563730a656e636f64650a70350a28565c7530303030ff0a70360a566c6174696e310a70370a7470380a5270390a747031300a73566269670a7031310a4c313138303539313632303731373431313330333432344c0a73566e65670a7031320a492d3330300a7356750a7031330a5668e95c75346532645c5530303031663630300a7031340a73566e0a7031350a4936353533360a73566f640a7031360a63636f6c6c656374696f6e730a4f726465726564446963740a7031370a2874527031380a566b0a7031390a49310a73732e',
  2: '80027d71002858010000006171015d7102284b014740040000000000004e88896558010000006271035801000000787104635f636f646563730a656e636f64650a7105580300000000c3bf710658060000006c6174696e31710786710852710986710a5803000000626967710b8a0900000000000000004058030000006e6567710c4ad4feffff580100000075710d580a00000068c3a9e4b8adf09f9880710e58010000006e710f4a0000010058020000006f64711063636f6c6c656374696f6e730a4f726465726564446963740a71112952711258010000006b71134b0173752e',
  4: '8004958d000000000000007d94288c0161945d94284b014740040000000000004e8889658c0162948c017894430200ff9486948c03626967948a090000000000000000408c036e6567944ad4feffff8c0175948c0a68c3a9e4b8adf09f9880948c016e944a000001008c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b0173752e',
  5: '8005958d000000000000007d94288c0161945d94284b014740040000000000004e8889658c0162948c017894430200ff9486948c03626967948a090000000000000000408c036e6567944ad4feffff8c0175948c0a68c3a9e4b8adf09f9880948c016e944a000001008c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b0173752e',
};

describe('unpickle: what CPython writes', () => {
  for (const [protocol, bytes] of Object.entries(CPYTHON)) {
    it(`decodes protocol ${protocol}`, () => {
      const v = load(hex(bytes));
      expect(v).toBeInstanceOf(Map);
      const m = v as Map<string, PickleValue>;
      expect([...m.keys()]).toEqual(['a', 'b', 'big', 'neg', 'u', 'n', 'od']);
      expect(m.get('a')).toEqual([1, 2.5, null, true, false]);
      expect(m.get('b')).toEqual(['x', Uint8Array.from([0, 255])]);
      expect(m.get('big')).toBe(2n ** 70n);
      expect(m.get('neg')).toBe(-300);
      expect(m.get('u')).toBe('h\u00e9\u4e2d\u{1F600}');
      expect(m.get('n')).toBe(65536);
      expect(m.get('od')).toEqual(new Map([['k', 1]]));
    });
  }

  it('decodes sets and frozensets (protocol 2 via __builtin__.set, protocol 4 via opcodes)', () => {
    const p2 = load(hex('80027d7100285801000000737101635f5f6275696c74696e5f5f0a7365740a71025d7103284b014b02658571045271055801000000667106635f5f6275696c74696e5f5f0a66726f7a656e7365740a71075d71084b036185710952710a752e'));
    const p4 = load(hex('8004951a000000000000007d94288c0173948f94284b014b02908c016694284b039194752e'));
    for (const v of [p2, p4]) {
      const m = v as Map<string, PickleValue>;
      expect(m.get('s')).toEqual(new PickleObject('builtins.set', [1, 2]));
      expect(m.get('f')).toEqual(new PickleObject('builtins.frozenset', [3]));
    }
  });

  it('keeps shared references shared through the memo', () => {
    const v = load(hex('80027d71002858010000007871015d71024b016158010000007971036802752e')) as Map<string, PickleValue>;
    expect(v.get('x')).toEqual([1]);
    expect(v.get('x')).toBe(v.get('y'));
  });

  it('round-trips values through the test writer (both global forms)', () => {
    const tree = { dict: [['k', [1, -2, 70000, -(2 ** 31), 2 ** 40, { float: 0.5 }, 'é', null, true, { tuple: [] }]] as [PyValue, PyValue]] };
    for (const opts of [{}, { protocol: 4, stackGlobal: true }]) {
      const v = load(pickleValue({ ...tree, ordered: true }, opts));
      expect(v).toEqual(new Map([['k', [1, -2, 70000, -(2 ** 31), 2 ** 40, 0.5, 'é', null, true, []]]]));
    }
  });
});

describe('unpickle: the allow-list', () => {
  const payload = 'touch /tmp/easel-pwned';
  const refusals: [string, Uint8Array][] = [
    ['os.system', new PickleWriter().proto().global('os', 'system').str(payload).op(0x85, 0x52).stop().toBytes()],
    ['os.system', new PickleWriter({ protocol: 4, stackGlobal: true }).proto().global('os', 'system').str(payload).op(0x85, 0x52).stop().toBytes()],
    ['builtins.eval', new PickleWriter().proto().global('builtins', 'eval').str('1+1').op(0x85, 0x52).stop().toBytes()],
    ['builtins.eval', new PickleWriter().proto().global('__builtin__', 'eval').str('1+1').op(0x85, 0x52).stop().toBytes()],
    ['builtins.exec', new PickleWriter().proto().global('builtins', 'exec').str('1').op(0x85, 0x52).stop().toBytes()],
    ['builtins.getattr', new PickleWriter().proto().global('builtins', 'getattr').stop().toBytes()],
    ['builtins.__import__', new PickleWriter().proto().global('builtins', '__import__').stop().toBytes()],
    ['posix.system', new PickleWriter().proto().global('posix', 'system').stop().toBytes()],
    ['nt.system', new PickleWriter().proto().global('nt', 'system').stop().toBytes()],
    ['subprocess.Popen', new PickleWriter().proto().global('subprocess', 'Popen').stop().toBytes()],
    ['torch.load', new PickleWriter().proto().global('torch', 'load').stop().toBytes()],
    // protocol 0 forms: GLOBAL + REDUCE and INST
    ['os.system', new TextEncoder().encode(`cos\nsystem\n(S'${payload}'\ntR.`)],
    ['os.system', new TextEncoder().encode(`(S'${payload}'\nios\nsystem\n.`)],
  ];
  for (const [name, bytes] of refusals) {
    it(`refuses ${name} (${bytes[0] === 0x80 ? `protocol ${bytes[1]}` : 'protocol 0'})`, () => {
      expect(() => load(bytes)).toThrow(expect.objectContaining({ code: 'unsafe_pickle', message: expect.stringContaining(`'${name}'`) }));
    });
  }

  it('stops at the forbidden global before reading anything after it', () => {
    const bytes = new PickleWriter().proto().global('os', 'system').op(0xff, 0xff).toBytes();
    expect(() => load(bytes)).toThrow(expect.objectContaining({ code: 'unsafe_pickle' }));
  });

  it('refuses extension-registry codes, which name globals by number', () => {
    expect(() => load(Uint8Array.from([0x80, 2, 0x82, 1, 0x2e]))).toThrow(expect.objectContaining({ code: 'unsafe_pickle' }));
  });

  it('allows nothing with an empty allow-list, not even OrderedDict', () => {
    const bytes = pickleValue({ dict: [], ordered: true });
    expect(() => unpickle(bytes, { globals: new Map() })).toThrow(expect.objectContaining({ code: 'unsafe_pickle', message: expect.stringContaining('collections.OrderedDict') }));
  });

  it('turns placeholder classes into inert objects and never calls anything else', () => {
    const v = load(
      pickleValue({
        call: ['pytorch_lightning.callbacks.model_checkpoint', 'ModelCheckpoint'],
        args: [],
        state: { dict: [['monitor', null]] },
      }),
    );
    expect(v).toEqual(new PickleObject('pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint', new Map([['monitor', null]])));
    // an inert object may not be called in turn
    const callInert = new PickleWriter().proto().value({ call: ['numpy', 'dtype'], args: ['i8'] }).op(0x29, 0x52).stop().toBytes();
    expect(() => load(callInert)).toThrow(expect.objectContaining({ code: 'bad_pickle', message: expect.stringContaining('not an allow-listed callable') }));
    // a storage class is a value, not a callable
    const callStorage = new PickleWriter().proto().global('torch', 'FloatStorage').op(0x29, 0x52).stop().toBytes();
    expect(() => load(callStorage)).toThrow(expect.objectContaining({ code: 'bad_pickle', message: expect.stringContaining('may not be called') }));
  });
});

describe('unpickle: malformed streams', () => {
  const bytes = (...b: number[]) => Uint8Array.from(b);
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['unknown opcode', bytes(0x80, 2, 0xff, 0x2e), 'bad_pickle', /unknown opcode 0xff/],
    ['no STOP', bytes(0x80, 2, 0x4e), 'bad_pickle', /without STOP/],
    ['GET before PUT', bytes(0x80, 2, 0x68, 5, 0x2e), 'bad_pickle', /memo slot 5/],
    ['LONG_BINGET before PUT', bytes(0x80, 2, 0x4e, 0x71, 0, 0x6a, 1, 0, 0, 0, 0x2e), 'bad_pickle', /memo slot 1/],
    ['PUT on an empty stack', bytes(0x80, 2, 0x71, 0, 0x2e), 'bad_pickle', /underflow/],
    ['memo index text', new TextEncoder().encode('Np-1\n.'), 'bad_pickle', /memo index/],
    ['TUPLE without MARK', bytes(0x80, 2, 0x4e, 0x74, 0x2e), 'bad_pickle', /no mark/],
    ['POP of a mark', bytes(0x80, 2, 0x28, 0x30, 0x2e), 'bad_pickle', /mark/],
    ['STOP on an empty stack', bytes(0x80, 2, 0x2e), 'bad_pickle', /underflow/],
    ['REDUCE on a string', bytes(0x80, 2, 0x8c, 1, 0x61, 0x29, 0x52, 0x2e), 'bad_pickle', /not an allow-listed callable/],
    ['BUILD on a list', bytes(0x80, 2, 0x5d, 0x4e, 0x62, 0x2e), 'bad_pickle', /BUILD/],
    ['APPEND to a tuple', bytes(0x80, 2, 0x29, 0x4e, 0x61, 0x2e), 'bad_pickle', /not a list/],
    ['SETITEM on a list', bytes(0x80, 2, 0x5d, 0x4e, 0x4e, 0x73, 0x2e), 'bad_pickle', /not a dict/],
    ['odd SETITEMS', bytes(0x80, 2, 0x7d, 0x28, 0x4e, 0x75, 0x2e), 'bad_pickle', /odd number/],
    ['oversized BINUNICODE', bytes(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61), 'bad_pickle', /needs 2147483647 bytes/],
    ['oversized BINBYTES8', bytes(0x80, 4, 0x8e, 1, 0, 0, 0, 0, 0, 0, 1, 0x2e), 'bad_pickle', /larger than the stream/],
    ['bad INT text', new TextEncoder().encode('I12x\n.'), 'bad_pickle', /integer literal/],
    ['protocol 6', bytes(0x80, 6, 0x4e, 0x2e), 'unsupported_pickle', /protocol 6/],
    ['tuple dict key', bytes(0x80, 2, 0x7d, 0x29, 0x4e, 0x73, 0x2e), 'unsupported_pickle', /dict key/],
    ['out-of-band buffer', bytes(0x80, 5, 0x97, 0x2e), 'unsupported_pickle', /NEXT_BUFFER/],
    ['persistent id without a loader', bytes(0x80, 2, 0x4e, 0x51, 0x2e), 'unsupported_pickle', /persistent/],
  ];
  for (const [what, b, code, message] of cases) {
    it(`refuses ${what} with ${code}`, () => {
      expect(() => load(b)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    });
  }

  it('refuses every truncation of a valid pickle with bad_pickle', () => {
    const full = hex(CPYTHON[2]);
    for (let n = 0; n < full.length; n++) {
      expect(() => load(full.subarray(0, n)), `cut at ${n}`).toThrow(expect.objectContaining({ code: 'bad_pickle' }));
    }
  });

  it('takes huge APPENDS / SETITEMS batches without overflowing the call stack', () => {
    const n = 300_000;
    const w = new PickleWriter().proto().op(0x5d).mark();
    for (let i = 0; i < n; i++) w.op(0x88);
    w.op(0x65).stop();
    const v = load(w.toBytes()) as PickleValue[];
    expect(v.length).toBe(n);
    expect(v[n - 1]).toBe(true);
  });

  it('reads protocol 0 float literals, including the spellings of the specials', () => {
    const v = load(new TextEncoder().encode('(lp0\nF2.5\naF-inf\naFnan\naF1e300\na.')) as number[];
    expect(v).toEqual([2.5, -Infinity, NaN, 1e300]);
    expect(() => load(new TextEncoder().encode('F2.5x\n.'))).toThrow(expect.objectContaining({ code: 'bad_pickle', message: expect.stringMatching(/float literal/) }));
  });

  it('returns where the pickle ended, so back-to-back pickles can be read', () => {
    const a = pickleValue(1);
    const b = pickleValue('two');
    const both = new Uint8Array([...a, ...b]);
    const first = unpickle(both, { globals: new Map() });
    expect(first).toEqual({ value: 1, end: a.length });
    expect(unpickle(both, { globals: new Map() }, first.end).value).toBe('two');
  });
});

describe('unpickle: fuzz', () => {
  const CODES = new Set(['bad_pickle', 'unsupported_pickle', 'unsafe_pickle', 'bad_tensor', 'bad_archive', 'bad_storage']);
  const storage = new TorchStorage('torch.FloatStorage', 'F32', '0', 16, async () => new Uint8Array(64));
  const opts = {
    globals: torchGlobals(),
    persistentLoad: (pid: PickleValue): PickleValue => {
      if (Array.isArray(pid) && pid[0] === 'storage') return storage;
      throw new TorchFileError('bad_storage', 'not a storage id');
    },
  };
  const run = (bytes: Uint8Array): void => {
    try {
      unpickle(bytes, opts);
    } catch (err) {
      const coded = err instanceof PickleError || err instanceof TorchFileError;
      if (!coded || !CODES.has(err.code)) throw new Error(`uncoded failure: ${(err as Error).stack}`);
    }
  };

  it('random bytes end in a value or a coded error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, proto) => run(proto ? Uint8Array.of(0x80, 2, ...body) : body)), { numRuns: 3000 });
  });

  it('random sequences of torch-like fragments end in a value or a coded error', () => {
    const w = () => new PickleWriter();
    const fragments: Uint8Array[] = [
      Uint8Array.of(0x28), // MARK
      Uint8Array.of(0x7d), // EMPTY_DICT
      Uint8Array.of(0x5d), // EMPTY_LIST
      Uint8Array.of(0x29), // EMPTY_TUPLE
      Uint8Array.of(0x74), // TUPLE
      Uint8Array.of(0x85), // TUPLE1
      Uint8Array.of(0x86), // TUPLE2
      Uint8Array.of(0x75), // SETITEMS
      Uint8Array.of(0x65), // APPENDS
      Uint8Array.of(0x73), // SETITEM
      Uint8Array.of(0x52), // REDUCE
      Uint8Array.of(0x81), // NEWOBJ
      Uint8Array.of(0x62), // BUILD
      Uint8Array.of(0x51), // BINPERSID
      Uint8Array.of(0x32), // DUP
      Uint8Array.of(0x30), // POP
      Uint8Array.of(0x31), // POP_MARK
      Uint8Array.of(0x4e), // NONE
      Uint8Array.of(0x89), // NEWFALSE
      Uint8Array.of(0x71, 0), // BINPUT 0
      Uint8Array.of(0x68, 0), // BINGET 0
      Uint8Array.of(0x94), // MEMOIZE
      Uint8Array.of(0x4b, 3), // BININT1 3
      Uint8Array.of(0x4a, 0xff, 0xff, 0xff, 0xff), // BININT -1
      w().str('storage').toBytes(),
      w().str('0').toBytes(),
      w().global('collections', 'OrderedDict').toBytes(),
      w().global('torch', 'FloatStorage').toBytes(),
      w().global('torch._utils', '_rebuild_tensor_v2').toBytes(),
      w().global('torch._utils', '_rebuild_parameter').toBytes(),
      w().global('torch._tensor', '_rebuild_from_type_v2').toBytes(),
      w().global('torch', 'Tensor').toBytes(),
      w().global('_codecs', 'encode').toBytes(),
      w().global('builtins', 'set').toBytes(),
      w().global('numpy', 'dtype').toBytes(),
    ];
    const stop = Uint8Array.of(0x2e);
    fc.assert(
      fc.property(fc.array(fc.nat(fragments.length - 1), { maxLength: 40 }), (picks) => {
        const parts = [Uint8Array.of(0x80, 2), ...picks.map((i) => fragments[i]), stop];
        run(Uint8Array.from(parts.flatMap((p) => [...p])));
      }),
      { numRuns: 5000 },
    );
  });
});

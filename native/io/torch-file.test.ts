import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PickleObject, type PickleValue } from './pickle-vm.js';
import { PickleWriter, type PyTensor, type PyValue } from './testing/pickle-writer.js';
import { writeTorchZip } from './testing/zip-writer.js';
import { isTorchTensor, openTorchFile, stateDictTensors, tensorBytes, type TorchTensor } from './torch-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-torch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const f32Bytes = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);
const t = (tensor: PyTensor): PyValue => ({ tensor });
const get = (v: PickleValue, key: string): PickleValue => (v as Map<string, PickleValue>).get(key) as PickleValue;

describe('openTorchFile: malicious pickles', () => {
  const cases: [string, (cmd: string) => Uint8Array][] = [
    ['GLOBAL os.system + REDUCE', (cmd) => new PickleWriter().proto().global('os', 'system').str(cmd).op(0x85, 0x52).stop().toBytes()],
    ['STACK_GLOBAL os.system + REDUCE', (cmd) => new PickleWriter({ protocol: 4, stackGlobal: true }).proto().global('os', 'system').str(cmd).op(0x85, 0x52).stop().toBytes()],
    ['builtins.eval', (cmd) => new PickleWriter().proto().global('builtins', 'eval').str(`__import__('os').system(${JSON.stringify(cmd)})`).op(0x85, 0x52).stop().toBytes()],
    [
      'os.system hidden inside a state dict after real tensors',
      (cmd) =>
        new PickleWriter()
          .proto()
          .global('collections', 'OrderedDict')
          .op(0x29, 0x52)
          .value('w')
          .tensor({ storage: '0', dtype: 'F32', storageNumel: 2, shape: [2] })
          .value('evil')
          .global('os', 'system')
          .str(cmd)
          .op(0x85, 0x52)
          .op(0x73)
          .stop()
          .toBytes(),
    ],
  ];
  for (const [what, build] of cases) {
    it(`refuses ${what} with unsafe_pickle, and nothing runs`, async () => {
      const marker = join(dir, `pwned-${what.replace(/\W+/g, '-')}`);
      const path = join(dir, 'evil.ckpt');
      await writeTorchZip(path, null, { pickle: build(`touch ${marker}`), storages: { '0': f32Bytes([1, 2]) } });
      const name = what.includes('eval') ? 'builtins.eval' : 'os.system';
      await expect(openTorchFile(path)).rejects.toMatchObject({ code: 'unsafe_pickle', message: expect.stringContaining(`'${name}'`) });
      expect(existsSync(marker)).toBe(false);
    });
  }
});

describe('openTorchFile: tensors', () => {
  it('handles storage offsets, shared storages, non-contiguous strides, stride 0 and scalars', async () => {
    const path = join(dir, 'views.pt');
    const s = { storage: '0', dtype: 'F32' as const, storageNumel: 12 };
    await writeTorchZip(
      path,
      {
        dict: [
          ['slice', t({ ...s, offset: 2, shape: [2, 3] })],
          ['transposed', t({ ...s, shape: [4, 3], stride: [1, 4] })],
          ['expanded', t({ ...s, offset: 1, shape: [2, 3], stride: [0, 1] })],
          ['strided3d', t({ ...s, offset: 1, shape: [2, 2, 2], stride: [6, 1, 3] })],
          ['scalar', t({ ...s, offset: 5, shape: [] })],
          ['empty', t({ ...s, offset: 12, shape: [0, 3] })],
          ['param', t({ ...s, offset: 10, shape: [2], parameter: true })],
        ],
        ordered: true,
      },
      { storages: { '0': f32Bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) } },
    );
    const f = await openTorchFile(path);
    try {
      const sd = stateDictTensors(f.root);
      const read = async (k: string) => [...(await sd.get(k)!.toFloat32())];
      expect([...sd.keys()]).toEqual(['slice', 'transposed', 'expanded', 'strided3d', 'scalar', 'empty', 'param']);
      expect(sd.get('slice')!.shape).toEqual([2, 3]);
      expect(await read('slice')).toEqual([2, 3, 4, 5, 6, 7]);
      // element [i][j] = storage[j * 4 + i]
      expect(await read('transposed')).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      expect(await read('expanded')).toEqual([1, 2, 3, 1, 2, 3]);
      // element [a][b][c] = storage[1 + 6a + b + 3c]
      expect(await read('strided3d')).toEqual([1, 4, 2, 5, 7, 10, 8, 11]);
      expect(sd.get('scalar')!.shape).toEqual([]);
      expect(await read('scalar')).toEqual([5]);
      expect(await read('empty')).toEqual([]);
      expect(await read('param')).toEqual([10, 11]);
      expect(sd.get('param')!.dtype).toBe('F32');
      expect([...(await tensorBytes(sd.get('transposed')!)).subarray(0, 8)]).toEqual([...f32Bytes([0, 4])]);
    } finally {
      await f.close();
    }
  });

  it('reads every storage dtype', async () => {
    const path = join(dir, 'dtypes.pt');
    const storages: Record<string, Uint8Array> = {
      f64: new Uint8Array(Float64Array.from([1.5, -2]).buffer),
      f16: new Uint8Array(Uint16Array.from([0x3c00, 0xc000]).buffer), // 1, -2
      bf16: new Uint8Array(Uint16Array.from([0x3fc0, 0xc000]).buffer), // 1.5, -2
      i64: new Uint8Array(BigInt64Array.from([7n, -3n]).buffer),
      i32: new Uint8Array(Int32Array.from([7, -3]).buffer),
      i16: new Uint8Array(Int16Array.from([7, -3]).buffer),
      i8: new Uint8Array(Int8Array.from([7, -3]).buffer),
      u8: Uint8Array.from([7, 253]),
      bool: Uint8Array.from([1, 0]),
    };
    const dtypes = { f64: 'F64', f16: 'F16', bf16: 'BF16', i64: 'I64', i32: 'I32', i16: 'I16', i8: 'I8', u8: 'U8', bool: 'BOOL' } as const;
    await writeTorchZip(path, { dict: Object.entries(dtypes).map(([k, dtype]) => [k, t({ storage: k, dtype, storageNumel: 2, shape: [2] })]) }, { storages });
    const f = await openTorchFile(path);
    try {
      const sd = stateDictTensors(f.root);
      const expected = { f64: [1.5, -2], f16: [1, -2], bf16: [1.5, -2], i64: [7, -3], i32: [7, -3], i16: [7, -3], i8: [7, -3], u8: [7, 253], bool: [1, 0] };
      for (const [k, dtype] of Object.entries(dtypes)) {
        expect(sd.get(k)!.dtype, k).toBe(dtype);
        expect([...(await sd.get(k)!.toFloat32())], k).toEqual(expected[k as keyof typeof expected]);
      }
    } finally {
      await f.close();
    }
  });

  it('refuses tensors that point outside their storage and storages missing from the archive', async () => {
    const bad: [string, PyTensor, RegExp][] = [
      ['past the end', { storage: '0', dtype: 'F32', storageNumel: 4, offset: 2, shape: [3] }, /reads past storage/],
      ['stride past the end', { storage: '0', dtype: 'F32', storageNumel: 4, shape: [2, 2], stride: [3, 1] }, /reads past storage/],
      ['rank mismatch', { storage: '0', dtype: 'F32', storageNumel: 4, shape: [2, 2], stride: [1] }, /differ in rank/],
    ];
    for (const [what, tensor, message] of bad) {
      const path = join(dir, 'bad-view.pt');
      await writeTorchZip(path, { dict: [['x', t(tensor)]] }, { storages: { '0': f32Bytes([0, 1, 2, 3]) } });
      await expect(openTorchFile(path), what).rejects.toMatchObject({ code: 'bad_tensor', message: expect.stringMatching(message) });
    }
    const short = join(dir, 'short-storage.pt');
    await writeTorchZip(short, { dict: [['x', t({ storage: '0', dtype: 'F32', storageNumel: 8, shape: [8] })]] }, { storages: { '0': f32Bytes([0, 1]) } });
    await expect(openTorchFile(short)).rejects.toMatchObject({ code: 'bad_storage', message: expect.stringContaining('needs 8') });
    const missing = join(dir, 'missing-storage.pt');
    await writeTorchZip(missing, { dict: [['x', t({ storage: '7', dtype: 'F32', storageNumel: 1, shape: [1] })]] }, { storages: {} });
    await expect(openTorchFile(missing)).rejects.toMatchObject({ code: 'bad_storage', message: expect.stringContaining('archive/data/7') });
  });

  it('reads deflated, ZIP64 archives with any folder name', async () => {
    const path = join(dir, 'deflated.pth');
    await writeTorchZip(path, { dict: [['w', t({ storage: '0', dtype: 'F32', storageNumel: 3, shape: [3] })]], ordered: true }, {
      storages: { '0': f32Bytes([1, 2, 3]) },
      deflate: true,
      zip64: true,
      prefix: 'my_model',
    });
    const f = await openTorchFile(path);
    try {
      expect([...(await stateDictTensors(f.root).get('w')!.toFloat32())]).toEqual([1, 2, 3]);
    } finally {
      await f.close();
    }
  });
});

describe('openTorchFile: formats', () => {
  it('refuses legacy, tar, big-endian and non-torch files with unsupported_format', async () => {
    const legacy = join(dir, 'legacy.pt');
    // torch < 1.6 starts with a protocol 2 pickle of the magic number 0x1950a86a20f9469cfc6c
    await writeFile(legacy, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
    await expect(openTorchFile(legacy)).rejects.toMatchObject({ code: 'unsupported_format', message: expect.stringContaining('legacy') });
    const tar = join(dir, 'old.tar.pt');
    const tarBytes = new Uint8Array(1024);
    tarBytes.set(new TextEncoder().encode('ustar'), 257);
    await writeFile(tar, tarBytes);
    await expect(openTorchFile(tar)).rejects.toMatchObject({ code: 'unsupported_format', message: expect.stringContaining('tar') });
    const text = join(dir, 'text.ckpt');
    await writeFile(text, 'hello');
    await expect(openTorchFile(text)).rejects.toMatchObject({ code: 'unsupported_format' });
    const big = join(dir, 'big-endian.pt');
    await writeTorchZip(big, { dict: [] }, { byteorder: 'big' });
    await expect(openTorchFile(big)).rejects.toMatchObject({ code: 'unsupported_format', message: expect.stringContaining('big') });
    await expect(openTorchFile(join(dir, 'absent.pt'))).rejects.toMatchObject({ code: 'unsupported_format' });
  });

  it('parses an A1111 textual-inversion embedding', async () => {
    const path = join(dir, 'x.pt');
    const vec = Array.from({ length: 2 * 768 }, (_, i) => Math.fround(Math.sin(i) / 7));
    await writeTorchZip(
      path,
      {
        dict: [
          ['string_to_token', { dict: [['*', 265]] }],
          ['string_to_param', { dict: [['*', t({ storage: '0', dtype: 'F32', storageNumel: 1536, shape: [2, 768] })]] }],
          ['name', 'x'],
          ['step', 100],
          ['sd_checkpoint', 'cc6cb27103'],
          ['sd_checkpoint_name', 'v1-5-pruned-emaonly'],
        ],
      },
      { storages: { '0': f32Bytes(vec) } },
    );
    const f = await openTorchFile(path);
    try {
      expect(get(f.root, 'name')).toBe('x');
      expect(get(f.root, 'step')).toBe(100);
      expect(get(f.root, 'sd_checkpoint')).toBe('cc6cb27103');
      expect(get(get(f.root, 'string_to_token'), '*')).toBe(265);
      const param = get(get(f.root, 'string_to_param'), '*');
      expect(isTorchTensor(param)).toBe(true);
      expect((param as TorchTensor).shape).toEqual([2, 768]);
      expect([...(await (param as TorchTensor).toFloat32())]).toEqual(vec);
    } finally {
      await f.close();
    }
  });

  it('keeps an old-style ParameterDict embedding as an inert object whose state holds the tensor', async () => {
    const path = join(dir, 'old-emb.pt');
    await writeTorchZip(
      path,
      {
        dict: [
          [
            'string_to_param',
            {
              call: ['torch.nn.modules.container', 'ParameterDict'],
              args: [],
              state: { dict: [['_parameters', { dict: [['*', t({ storage: '0', dtype: 'F16', storageNumel: 4, shape: [1, 4], parameter: true })]], ordered: true }]] },
            },
          ],
        ],
      },
      { storages: { '0': new Uint8Array(Uint16Array.from([0x3c00, 0x4000, 0x4200, 0x4400]).buffer) } },
    );
    const f = await openTorchFile(path);
    try {
      const pd = get(f.root, 'string_to_param');
      expect(pd).toBeInstanceOf(PickleObject);
      expect((pd as PickleObject).$class).toBe('torch.nn.modules.container.ParameterDict');
      const param = get(get((pd as PickleObject).state!, '_parameters'), '*') as TorchTensor;
      expect([...(await param.toFloat32())]).toEqual([1, 2, 3, 4]);
    } finally {
      await f.close();
    }
  });

  it('stateDictTensors unwraps state_dict and skips non-tensors', async () => {
    const path = join(dir, 'wrapped.ckpt');
    await writeTorchZip(
      path,
      {
        dict: [
          ['global_step', 5],
          ['state_dict', { dict: [['a', t({ storage: '0', dtype: 'F32', storageNumel: 1, shape: [1] })], ['note', 'text']], ordered: true }],
        ],
      },
      { storages: { '0': f32Bytes([9]) } },
    );
    const f = await openTorchFile(path);
    try {
      expect([...stateDictTensors(f.root).keys()]).toEqual(['a']);
      expect(stateDictTensors(get(f.root, 'global_step')).size).toBe(0);
    } finally {
      await f.close();
    }
  });
});

import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f32ToF16, f32ToBf16 } from './dtype.js';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from './safetensors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
/** A file made byte by byte: 8-byte LE length (or `length` override), header text, data. */
async function rawFile(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), length?: bigint): Promise<string> {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const bytes = new Uint8Array(8 + h.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  bytes.set(h, 8);
  bytes.set(data, 8 + h.length);
  const p = join(dir, `raw-${counter++}.safetensors`);
  await writeFile(p, bytes);
  return p;
}

async function expectCode(p: string, code: string): Promise<SafetensorsError> {
  const err = await SafetensorsFile.open(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SafetensorsError);
  expect((err as SafetensorsError).code).toBe(code);
  expect((err as SafetensorsError).message).toContain(p);
  return err as SafetensorsError;
}

describe('SafetensorsFile reading', () => {
  it('reads F32, F16, BF16, F64 and I64 tensors and the metadata written by writeSafetensors', async () => {
    const values = Float32Array.from([1.5, -2, 0.25, 3, 1024, -0.125]);
    const p = join(dir, 'mixed.safetensors');
    await writeSafetensors(
      p,
      {
        f32: { dtype: 'F32', shape: [2, 3], data: values },
        f16: { dtype: 'F16', shape: [6], data: f32ToF16(values) },
        bf16: { dtype: 'BF16', shape: [3, 2], data: f32ToBf16(values) },
        f64: { dtype: 'F64', shape: [6], data: Float64Array.from(values) },
        ids: { dtype: 'I64', shape: [1, 4], data: BigInt64Array.from([0n, 1n, 2n, 76n]) },
        u8: { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 7, 255]) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      },
      { note: 'hello', 'sd_tiny.config': '{}' },
    );
    const f = await SafetensorsFile.open(p);
    try {
      expect(f.keys()).toEqual(['f32', 'f16', 'bf16', 'f64', 'ids', 'u8', 'empty']);
      expect(f.metadata).toEqual({ note: 'hello', 'sd_tiny.config': '{}' });
      expect(f.info('bf16')).toMatchObject({ dtype: 'BF16', shape: [3, 2] });
      for (const name of ['f32', 'f16', 'bf16', 'f64']) expect([...(await f.readFloat32(name))]).toEqual([...values]);
      expect([...(await f.readFloat32('ids'))]).toEqual([0, 1, 2, 76]);
      expect([...(await f.readFloat32('u8'))]).toEqual([0, 7, 255]);
      expect((await f.readFloat32('empty')).length).toBe(0);
      const raw = await f.readBytes('f16');
      expect([...new Uint16Array(raw.buffer, raw.byteOffset, 6)]).toEqual([...f32ToF16(values)]);
      await expect(f.readFloat32('nope')).rejects.toMatchObject({ code: 'unknown_tensor' });
    } finally {
      await f.close();
    }
    await expect(f.readBytes('f32')).rejects.toMatchObject({ code: 'closed' });
  });

  it('pads the header with spaces so the data starts 8-byte aligned', async () => {
    const p = join(dir, 'aligned.safetensors');
    await writeSafetensors(p, { a: { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) } });
    const bytes = await readFile(p);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = bytes.subarray(8, 8 + n).toString('utf8');
    expect(header.trimEnd()).toBe(JSON.stringify({ a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] } }));
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect([...bytes.subarray(8 + n)]).toEqual([1, 2, 3]);
    const f = await SafetensorsFile.open(p);
    expect(f.info('a')).toEqual({ name: 'a', dtype: 'U8', shape: [3], begin: 8 + n, end: 8 + n + 3 });
    await f.close();
  });

  it('refuses to write data whose size does not match the shape', async () => {
    await expect(writeSafetensors(join(dir, 'bad-write.safetensors'), { a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toMatchObject({
      code: 'shape_mismatch',
    });
  });
});

describe('SafetensorsFile header validation', () => {
  const ok = (entries: Record<string, unknown>) => JSON.stringify(entries);

  it('rejects a file too short for the length prefix', async () => {
    const p = join(dir, 'short.safetensors');
    await writeFile(p, Uint8Array.from([1, 0, 0]));
    await expectCode(p, 'bad_header_length');
  });

  it('rejects header lengths past the end of the file, zero, or beyond 2^53', async () => {
    await expectCode(await rawFile('{}', new Uint8Array(0), 1000n), 'bad_header_length');
    await expectCode(await rawFile('{}', new Uint8Array(0), 0n), 'bad_header_length');
    await expectCode(await rawFile('{}', new Uint8Array(0), 0xffff_ffff_ffff_fff0n), 'bad_header_length');
  });

  it('rejects headers that are not a UTF-8 JSON object', async () => {
    await expectCode(await rawFile('{"a": '), 'bad_header_json');
    await expectCode(await rawFile('[1, 2]'), 'bad_header_json');
    await expectCode(await rawFile('null'), 'bad_header_json');
    await expectCode(await rawFile(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])), 'bad_header_json');
  });

  it('rejects unknown dtypes', async () => {
    const err = await expectCode(await rawFile(ok({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }), new Uint8Array(1)), 'unknown_dtype');
    expect(err.message).toContain('"Q4"');
  });

  it('rejects bad shapes and malformed entries', async () => {
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), new Uint8Array(4)), 'bad_tensor_entry');
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }), new Uint8Array(4)), 'bad_tensor_entry');
    await expectCode(await rawFile(ok({ t: 7 }), new Uint8Array(4)), 'bad_tensor_entry');
  });

  it('rejects offsets that are malformed, reversed or outside the data', async () => {
    const data = new Uint8Array(8);
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 12] } }), data), 'bad_offsets');
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }), data), 'bad_offsets');
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }), data), 'bad_offsets');
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1], data_offsets: [0] } }), data), 'bad_offsets');
    await expectCode(await rawFile(ok({ t: { dtype: 'F32', shape: [1], data_offsets: ['0', '4'] } }), data), 'bad_offsets');
  });

  it('rejects overlapping tensors but accepts empty tensors sharing an offset', async () => {
    const data = new Uint8Array(12);
    const err = await expectCode(
      await rawFile(
        ok({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }),
        data,
      ),
      'overlapping_tensors',
    );
    expect(err.message).toMatch(/"a".*"b"/);
    const f = await SafetensorsFile.open(
      await rawFile(
        ok({
          e1: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          e2: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        }),
        data,
      ),
    );
    expect(f.keys()).toEqual(['e1', 'a', 'e2']);
    await f.close();
  });

  it('rejects a byte range that does not match dtype x shape', async () => {
    const err = await expectCode(await rawFile(ok({ t: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 8] } }), new Uint8Array(8)), 'shape_mismatch');
    expect(err.message).toContain('needs 12 bytes');
  });

  it('rejects metadata that is not an object of strings', async () => {
    await expectCode(await rawFile(ok({ __metadata__: { a: 1 } })), 'bad_metadata');
    await expectCode(await rawFile(ok({ __metadata__: 'x' })), 'bad_metadata');
  });

  it('reports a missing file with its own code', async () => {
    await expect(SafetensorsFile.open(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('files larger than 2 GB and 4 GB', () => {
  it('reads tensors that sit past the 32-bit offsets in a sparse file', async () => {
    const p = join(dir, 'sparse.safetensors');
    const far = 5 * 2 ** 30 + 12; // past 4 GiB, not a multiple of anything convenient
    const header = new TextEncoder().encode(
      JSON.stringify({
        near: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        mid: { dtype: 'F16', shape: [3], data_offsets: [2 ** 31 + 6, 2 ** 31 + 12] },
        far: { dtype: 'F32', shape: [2, 2], data_offsets: [far, far + 16] },
      }),
    );
    const dataStart = 8 + header.length;
    const h = await open(p, 'w');
    try {
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
      await h.write(prefix, 0, 8, 0);
      await h.write(header, 0, header.length, 8);
      await h.write(new Uint8Array(Float32Array.from([7, 8]).buffer), 0, 8, dataStart);
      await h.truncate(dataStart + far + 16);
      await h.write(new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3800]).buffer), 0, 6, dataStart + 2 ** 31 + 6);
      await h.write(new Uint8Array(Float32Array.from([1, -2, 3.5, 1e30]).buffer), 0, 16, dataStart + far);
    } finally {
      await h.close();
    }
    expect((await stat(p)).size).toBeGreaterThan(2 ** 32);
    const f = await SafetensorsFile.open(p);
    try {
      expect(f.info('far')!.begin).toBe(dataStart + far);
      expect([...(await f.readFloat32('near'))]).toEqual([7, 8]);
      expect([...(await f.readFloat32('mid'))]).toEqual([1, -2, 0.5]);
      expect([...(await f.readFloat32('far'))]).toEqual([1, -2, 3.5, 1e30].map(Math.fround));
    } finally {
      await f.close();
    }
    await rm(p);
  });
});

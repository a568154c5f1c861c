import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { buildZip, concat, writeZip } from './testing/zip-writer.js';
import { ZipArchive, checkEntryName } from './zip-reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Deterministic, poorly compressible content so deflate streams span several chunks.
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// An independent writer (yazl) as ground truth for the reader.
async function yazlZip(path: string, files: { name: string; data: Uint8Array; compress: boolean }[], forceZip64Format: boolean): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(Buffer.from(f.data), f.name, { compress: f.compress, forceZip64Format });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve());
    zip.outputStream.on('error', reject);
  });
  zip.end({ forceZip64Format, comment: '' });
  await done;
  await writeFile(path, Buffer.concat(chunks));
}

// vitest's deep equality walks typed arrays element by element; compare big buffers natively
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

function hasSignature(bytes: Uint8Array, sig: number): boolean {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i++) if (v.getUint32(i, true) === sig) return true;
  return false;
}

describe('ZipArchive', () => {
  const big = noise(300_000, 7);
  const text = new TextEncoder().encode('hello zip '.repeat(5000));

  for (const zip64 of [false, true]) {
    it(`reads stored and deflated entries written by yazl${zip64 ? ' in ZIP64 form' : ''}`, async () => {
      const path = join(dir, `yazl-${zip64}.zip`);
      await yazlZip(
        path,
        [
          { name: 'a/stored.bin', data: big, compress: false },
          { name: 'a/deflated.txt', data: text, compress: true },
          { name: 'a/empty', data: new Uint8Array(0), compress: false },
        ],
        zip64,
      );
      // the archive really uses the record kinds under test
      expect(hasSignature(await readFile(path), 0x06064b50)).toBe(zip64);
      const zip = await ZipArchive.open(path);
      try {
        expect(zip.entries().map((e) => e.name)).toEqual(['a/stored.bin', 'a/deflated.txt', 'a/empty']);
        expect(zip.entry('a/stored.bin')).toMatchObject({ method: 0, size: big.length });
        expect(zip.entry('a/deflated.txt')).toMatchObject({ method: 8, size: text.length });
        expect(zip.entry('a/deflated.txt')!.compressedSize).toBeLessThan(text.length);
        expectBytes(await zip.readEntry('a/stored.bin', 1e9), big);
        expectBytes(await zip.readEntry('a/deflated.txt', 1e9), text);
        expectBytes(await zip.readEntry('a/empty', 1e9), new Uint8Array(0));
        expectBytes(await zip.readRange('a/stored.bin', 123_457, 1000), big.subarray(123_457, 124_457));
        expectBytes(await zip.readRange('a/deflated.txt', 33_333, 77), text.subarray(33_333, 33_410));
      } finally {
        await zip.close();
      }
    });
  }

  it('random-accesses ranges of deflated entries that span many inflate chunks', async () => {
    const path = join(dir, 'deflate-big.zip');
    await writeZip(path, [{ name: 'x', data: big, deflate: true }]);
    const zip = await ZipArchive.open(path);
    try {
      expect(zip.entry('x')!.method).toBe(8);
      expectBytes(await zip.readRange('x', 250_000, 50_000), big.subarray(250_000, 300_000));
      expectBytes(await zip.readRange('x', 0, 3), big.subarray(0, 3));
      await expect(zip.readRange('x', 299_999, 2)).rejects.toMatchObject({ code: 'bad_zip' });
    } finally {
      await zip.close();
    }
  });

  it('finds data after a local header whose extra field differs from the central one (torch alignment)', async () => {
    const path = join(dir, 'aligned.zip');
    const entries = [
      { name: 'archive/data.pkl', data: noise(17, 1) },
      { name: 'archive/data/0', data: noise(1001, 2), align: 64 },
      { name: 'archive/data/1', data: noise(64, 3), align: 64 },
    ];
    await writeZip(path, entries, { zip64: true });
    const zip = await ZipArchive.open(path);
    try {
      for (const e of entries) expectBytes(await zip.readEntry(e.name, 1e6), e.data);
    } finally {
      await zip.close();
    }
    // the padding really moved the data to 64-byte boundaries
    const raw = await readFile(path);
    const at = raw.indexOf(Buffer.from(entries[1].data.subarray(0, 16)));
    expect(at % 64).toBe(0);
  });

  it('refuses corrupt central directories, truncated files and hostile names with coded errors', async () => {
    const good = concat(buildZip([{ name: 'a.txt', data: text }]));
    const cdAt = good.length - 22 - (46 + 'a.txt'.length);

    const badSig = good.slice();
    badSig[cdAt] ^= 0xff;
    await writeFile(join(dir, 'bad-sig.zip'), badSig);
    await expect(ZipArchive.open(join(dir, 'bad-sig.zip'))).rejects.toMatchObject({ code: 'bad_zip', message: expect.stringContaining('central directory signature') });

    const badOffset = good.slice();
    new DataView(badOffset.buffer).setUint32(good.length - 22 + 16, good.length, true);
    await writeFile(join(dir, 'bad-offset.zip'), badOffset);
    await expect(ZipArchive.open(join(dir, 'bad-offset.zip'))).rejects.toMatchObject({ code: 'bad_zip' });

    const badCount = good.slice();
    new DataView(badCount.buffer).setUint16(good.length - 22 + 10, 500, true);
    await writeFile(join(dir, 'bad-count.zip'), badCount);
    await expect(ZipArchive.open(join(dir, 'bad-count.zip'))).rejects.toMatchObject({ code: 'bad_zip' });

    await writeFile(join(dir, 'truncated.zip'), good.subarray(0, good.length - 10));
    await expect(ZipArchive.open(join(dir, 'truncated.zip'))).rejects.toMatchObject({ code: 'not_zip' });

    await writeFile(join(dir, 'tiny.zip'), 'PK');
    await expect(ZipArchive.open(join(dir, 'tiny.zip'))).rejects.toMatchObject({ code: 'not_zip' });
    await expect(ZipArchive.open(join(dir, 'absent.zip'))).rejects.toMatchObject({ code: 'not_found' });

    for (const name of ['../evil', 'a/../../b', '/abs', 'c:\\x', 'a\\b']) {
      await writeZip(join(dir, 'evil.zip'), [{ name, data: text }]);
      await expect(ZipArchive.open(join(dir, 'evil.zip')), name).rejects.toMatchObject({ code: 'bad_entry_name' });
    }
    await writeZip(join(dir, 'dup.zip'), [
      { name: 'a', data: text },
      { name: 'a', data: text },
    ]);
    await expect(ZipArchive.open(join(dir, 'dup.zip'))).rejects.toMatchObject({ code: 'bad_zip', message: expect.stringContaining('duplicate') });
  });

  it('detects damaged data: CRC mismatch, broken deflate stream, limits', async () => {
    const chunks = buildZip([
      { name: 's', data: text },
      { name: 'd', data: big, deflate: true },
    ]);
    const bytes = concat(chunks);
    const sAt = 30 + 1; // local header + name of the first entry
    bytes[sAt + 10] ^= 0x01;
    const dAt = chunks[0].length + chunks[1].length + chunks[2].length + chunks[3].length + 30 + 1;
    bytes.fill(0xff, dAt + 10, dAt + 30);
    const path = join(dir, 'damaged.zip');
    await writeFile(path, bytes);
    const zip = await ZipArchive.open(path, { maxEntries: 2 });
    try {
      await expect(zip.readEntry('s', 1e9)).rejects.toMatchObject({ code: 'crc_mismatch' });
      await expect(zip.readEntry('d', 1e9)).rejects.toMatchObject({ code: expect.stringMatching(/^(bad_zip|short_read|crc_mismatch)$/) });
      await expect(zip.readEntry('s', 10)).rejects.toMatchObject({ code: 'too_large' });
      await expect(zip.readEntry('nope', 10)).rejects.toMatchObject({ code: 'unknown_entry' });
    } finally {
      await zip.close();
    }
    await expect(zip.readRange('s', 0, 1)).rejects.toMatchObject({ code: 'closed' });
    await expect(ZipArchive.open(path, { maxEntries: 1 })).rejects.toMatchObject({ code: 'too_large' });
    await expect(ZipArchive.open(path, { maxCentralDirectoryBytes: 10 })).rejects.toMatchObject({ code: 'too_large' });
  });

  it('checkEntryName accepts torch names and rejects escapes', () => {
    expect(checkEntryName('archive/data/0')).toBeUndefined();
    expect(checkEntryName('archive/.data/serialization_id')).toBeUndefined();
    expect(checkEntryName('a/../b')).toMatch(/\.\./);
    expect(checkEntryName('')).toBe('is empty');
    expect(checkEntryName('a\0b')).toBe('contains NUL');
  });
});

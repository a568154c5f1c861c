import sharp from 'sharp';
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { crc32, encodeTextChunk, ImageFormatError, readPngChunks, readPngSize, readPngTextChunks, withPngTextChunk } from './png-chunks.js';

let png: Buffer;
beforeAll(async () => {
  png = await sharp({ create: { width: 7, height: 5, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toBuffer();
});

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.from(type, 'latin1'), data), 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts raw chunks right after IHDR (8-byte signature + 25-byte IHDR chunk). */
function insertAfterIhdr(src: Buffer, ...chunks: Buffer[]): Buffer {
  return Buffer.concat([src.subarray(0, 33), ...chunks, src.subarray(33)]);
}

describe('crc32', () => {
  it('matches the standard check value and the CRCs sharp/libpng wrote', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (const c of readPngChunks(png)) {
      const stored = png.readUInt32BE(c.offset + 8 + c.data.length);
      expect(crc32(Buffer.from(c.type, 'latin1'), c.data)).toBe(stored);
    }
  });
});

describe('withPngTextChunk / readPngTextChunks', () => {
  it('writes tEXt for Latin-1 text and reads it back; the image still decodes', async () => {
    const out = withPngTextChunk(png, 'parameters', 'a cat, café\nSteps: 20');
    expect(readPngChunks(out).map((c) => c.type)).toContain('tEXt');
    expect(readPngTextChunks(out)).toEqual({ parameters: 'a cat, café\nSteps: 20' });
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([7, 5]);
    expect(readPngSize(out)).toEqual({ width: 7, height: 5 });
  });

  it('writes uncompressed iTXt for non-Latin-1 text and replaces an older chunk of the same key', () => {
    const once = withPngTextChunk(png, 'parameters', 'old');
    const twice = withPngTextChunk(once, 'parameters', '猫 🎨');
    const types = readPngChunks(twice).map((c) => c.type);
    expect(types.filter((t) => t === 'tEXt' || t === 'iTXt')).toEqual(['iTXt']);
    expect(types.indexOf('iTXt')).toBeLessThan(types.indexOf('IDAT'));
    expect(readPngTextChunks(twice).parameters).toBe('猫 🎨');
  });

  it('reads zTXt and compressed iTXt chunks', () => {
    const z = chunk('zTXt', Buffer.concat([Buffer.from('prompt\0\0', 'latin1'), deflateSync(Buffer.from('{"1": {}}', 'latin1'))]));
    const it = chunk('iTXt', Buffer.concat([Buffer.from('workflow\0\x01\0en\0Workflow\0', 'latin1'), deflateSync(Buffer.from('ワーク', 'utf8'))]));
    const out = insertAfterIhdr(png, z, it);
    expect(readPngTextChunks(out)).toEqual({ prompt: '{"1": {}}', workflow: 'ワーク' });
  });

  it('rejects non-PNG bytes, truncated files and bad keywords with a coded error', () => {
    expect(() => readPngTextChunks(Buffer.from('GIF89a....'))).toThrow(ImageFormatError);
    expect(() => readPngChunks(png.subarray(0, 40))).toThrow(/runs past the end|truncated/);
    try {
      encodeTextChunk('', 'x');
      expect.unreachable();
    } catch (err) {
      expect((err as ImageFormatError).code).toBe('invalid_image');
    }
  });
});

import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeUserComment, readImageMetadata } from './image-metadata.js';
import { ImageFormatError, withPngTextChunk } from './png-chunks.js';

const INFOTEXT = 'a cat, 猫\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';
let png: Buffer;
let jpeg: Buffer;
beforeAll(async () => {
  const img = sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } });
  png = await img.clone().png().toBuffer();
  jpeg = await img.clone().jpeg().toBuffer();
});

/** A big-endian TIFF with IFD0 → Exif IFD → UserComment, as piexif writes for A1111. */
function exifWithUserComment(comment: Buffer): Buffer {
  const ifd0 = Buffer.alloc(2 + 12 + 4);
  ifd0.writeUInt16BE(1, 0);
  ifd0.writeUInt16BE(0x8769, 2);
  ifd0.writeUInt16BE(4, 4);
  ifd0.writeUInt32BE(1, 6);
  ifd0.writeUInt32BE(8 + ifd0.length, 10); // Exif IFD follows IFD0
  const exifIfd = Buffer.alloc(2 + 12 + 4);
  exifIfd.writeUInt16BE(1, 0);
  exifIfd.writeUInt16BE(0x9286, 2);
  exifIfd.writeUInt16BE(7, 4);
  exifIfd.writeUInt32BE(comment.length, 6);
  exifIfd.writeUInt32BE(8 + ifd0.length + exifIfd.length, 10);
  const header = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]);
  return Buffer.concat([header, ifd0, exifIfd, comment]);
}

function unicodeComment(text: string, be: boolean): Buffer {
  const body = Buffer.from(text, 'utf16le');
  if (be) body.swap16();
  return Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), body]);
}

describe('readImageMetadata', () => {
  it('reads A1111 parameters from PNG and lists other chunks as items', () => {
    const out = withPngTextChunk(withPngTextChunk(png, 'parameters', INFOTEXT), 'Software', 'Easel');
    const meta = readImageMetadata(out);
    expect(meta.format).toBe('png');
    expect(meta.parameters).toBe(INFOTEXT);
    expect(meta.items).toEqual({ Software: 'Easel' });
  });

  it('reads ComfyUI prompt/workflow and InvokeAI metadata as JSON', () => {
    let out = withPngTextChunk(png, 'prompt', '{"3": {"class_type": "KSampler", "inputs": {"seed": 5}}}');
    out = withPngTextChunk(out, 'workflow', '{"nodes": []}');
    out = withPngTextChunk(out, 'invokeai_metadata', '{"positive_prompt": "cat", "seed": 9}');
    const meta = readImageMetadata(out);
    expect(meta.parameters).toBeUndefined();
    expect(meta.comfyui).toEqual({ prompt: { '3': { class_type: 'KSampler', inputs: { seed: 5 } } }, workflow: { nodes: [] } });
    expect(meta.invokeai?.metadata).toEqual({ positive_prompt: 'cat', seed: 9 });
  });

  it('reads the EXIF UserComment of a JPEG (UNICODE + UTF-16BE, as piexif writes)', () => {
    const tiff = exifWithUserComment(unicodeComment(INFOTEXT, true));
    const app1 = Buffer.alloc(4);
    app1.writeUInt16BE(0xffe1, 0);
    app1.writeUInt16BE(2 + 6 + tiff.length, 2);
    const withExif = Buffer.concat([jpeg.subarray(0, 2), app1, Buffer.from('Exif\0\0', 'latin1'), tiff, jpeg.subarray(2)]);
    const meta = readImageMetadata(withExif);
    expect(meta.format).toBe('jpeg');
    expect(meta.parameters).toBe(INFOTEXT);
  });

  it('decodes little-endian UTF-16 and ASCII user comments too', () => {
    expect(decodeUserComment(unicodeComment('Steps: 20, a', false))).toBe('Steps: 20, a');
    expect(decodeUserComment(Buffer.from('ASCII\0\0\0hello', 'latin1'))).toBe('hello');
  });

  it('answers a JPEG without EXIF with no parameters, and rejects non-images', () => {
    expect(readImageMetadata(jpeg).parameters).toBeUndefined();
    expect(() => readImageMetadata(Buffer.from('not an image at all'))).toThrow(ImageFormatError);
  });
});

import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readImageSize } from './image-input.js';

describe('readImageSize', () => {
  const make = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#345' } });

  it('reads PNG, JPEG and WebP (lossy and lossless) headers', async () => {
    expect(readImageSize(await make(37, 21).png().toBuffer())).toEqual({ format: 'png', width: 37, height: 21 });
    expect(readImageSize(await make(37, 21).jpeg().toBuffer())).toEqual({ format: 'jpeg', width: 37, height: 21 });
    expect(readImageSize(await make(37, 22).webp().toBuffer())).toEqual({ format: 'webp', width: 37, height: 22 });
    expect(readImageSize(await make(37, 21).webp({ lossless: true }).toBuffer())).toEqual({ format: 'webp', width: 37, height: 21 });
    expect(readImageSize(await make(300, 200).withMetadata({}).jpeg().toBuffer())).toEqual({ format: 'jpeg', width: 300, height: 200 });
  });

  it('rejects other bytes', () => {
    expect(readImageSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(readImageSize(new TextEncoder().encode('GIF89a' + 'x'.repeat(40)))).toBeUndefined();
    expect(readImageSize(new Uint8Array([0xff, 0xd8, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });
});

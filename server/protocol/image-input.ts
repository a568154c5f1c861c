// Images sent inside action payloads: base64 (with or without a data-URL prefix, as A1111 accepts)
// or raw bytes (Socket.IO binary). Decodes to bytes and reads the pixel size from the header so the
// byte and pixel limits hold before anything touches a decoder. Pure: runs in Node and the browser.
import { z } from 'zod';

export interface ImageLimits {
  /** Largest accepted encoded image, in bytes. */
  maxImageBytes: number;
  /** Largest accepted width × height. */
  maxImagePixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 4096 * 4096 };

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded size of a base64 string without decoding it. */
function base64Bytes(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export interface ImageSize {
  format: 'png' | 'jpeg' | 'webp';
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u16le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
const u32be = (b: Uint8Array, o: number): number => ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);

/** Reads width/height from a PNG, JPEG or WebP header; undefined for anything else. */
export function readImageSize(b: Uint8Array): ImageSize | undefined {
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let o = 2;
    while (o + 9 < b.length) {
      if (b[o] !== 0xff) return undefined;
      const marker = b[o + 1]!;
      if (marker === 0xff) {
        o++;
        continue;
      }
      const len = u16be(b, o + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { format: 'jpeg', height: u16be(b, o + 5), width: u16be(b, o + 7) };
      }
      o += 2 + len;
    }
    return undefined;
  }
  if (b.length >= 30 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') {
    const chunk = String.fromCharCode(...b.subarray(12, 16));
    if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    if (chunk === 'VP8L') {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ') return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  return undefined;
}

/**
 * Schema for one image field: accepts a base64 string, a data URL or bytes, and yields bytes.
 *
 * @example imageInputSchema(limits).parse('data:image/png;base64,iVBOR...') // Uint8Array
 */
export function imageInputSchema(limits: ImageLimits = DEFAULT_IMAGE_LIMITS) {
  return z
    .union([z.string(), z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)])
    .transform((value, ctx): Uint8Array => {
      let bytes: Uint8Array;
      if (typeof value === 'string') {
        const b64 = value.replace(DATA_URL, '').replace(/\s+/g, '');
        if (base64Bytes(b64) > limits.maxImageBytes) {
          ctx.addIssue({ code: 'custom', message: `image must be at most ${limits.maxImageBytes} bytes, got ${base64Bytes(b64)}` });
          return z.NEVER;
        }
        if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) {
          ctx.addIssue({ code: 'custom', message: 'image must be base64 (optionally a data: URL) or bytes' });
          return z.NEVER;
        }
        bytes = decodeBase64(b64);
      } else {
        bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
        if (bytes.byteLength > limits.maxImageBytes) {
          ctx.addIssue({ code: 'custom', message: `image must be at most ${limits.maxImageBytes} bytes, got ${bytes.byteLength}` });
          return z.NEVER;
        }
      }
      const size = readImageSize(bytes);
      if (!size) {
        ctx.addIssue({ code: 'custom', message: 'image must be a PNG, JPEG or WebP' });
        return z.NEVER;
      }
      if (size.width === 0 || size.height === 0 || size.width * size.height > limits.maxImagePixels) {
        ctx.addIssue({
          code: 'custom',
          message: `image must have at most ${limits.maxImagePixels} pixels, got ${size.width}x${size.height}`,
        });
        return z.NEVER;
      }
      return bytes;
    });
}

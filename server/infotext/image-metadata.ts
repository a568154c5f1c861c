// Generation metadata carried by an image file, whoever wrote it: A1111's `parameters` (PNG text,
// or EXIF UserComment in JPEG/WebP), ComfyUI's `prompt`/`workflow` JSON, InvokeAI's
// `invokeai_metadata` (and the older `sd-metadata`/`Dream`). Returns what it finds; never throws
// for an image without metadata, only for bytes that are not an image it knows.
import { ImageFormatError, isPng, readPngTextChunks } from './png-chunks.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageMetadata {
  format: ImageFormat;
  /** The A1111 infotext, when present. */
  parameters?: string;
  /** Every other text item (PNG text chunks; `exif comment` for JPEG/WebP), like A1111's png-info `items`. */
  items: Record<string, string>;
  comfyui?: { prompt?: unknown; workflow?: unknown };
  invokeai?: { metadata?: unknown; workflow?: unknown; graph?: unknown; legacy?: string };
}

const EXIF_USER_COMMENT = 0x9286;
const EXIF_IFD_POINTER = 0x8769;
const TIFF_TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (isPng(bytes)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The TIFF payload of a JPEG APP1 `Exif\0\0` segment, if any. */
function jpegExif(b: Buffer): Buffer | undefined {
  let pos = 2;
  while (pos + 4 <= b.length && b[pos] === 0xff) {
    const marker = b[pos + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: no more metadata
    const len = b.readUInt16BE(pos + 2);
    const seg = b.subarray(pos + 4, pos + 2 + len);
    if (marker === 0xe1 && seg.toString('latin1', 0, 6) === 'Exif\0\0') return seg.subarray(6);
    pos += 2 + len;
  }
  return undefined;
}

/** The TIFF payload of a WebP `EXIF` chunk (some writers keep the `Exif\0\0` prefix). */
function webpExif(b: Buffer): Buffer | undefined {
  let pos = 12;
  while (pos + 8 <= b.length) {
    const type = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    if (type === 'EXIF') {
      const data = b.subarray(pos + 8, Math.min(b.length, pos + 8 + size));
      return data.toString('latin1', 0, 6) === 'Exif\0\0' ? data.subarray(6) : data;
    }
    pos += 8 + size + (size & 1);
  }
  return undefined;
}

/** Finds the raw bytes of one tag in a TIFF IFD (following the Exif sub-IFD pointer from IFD0). */
function tiffUserComment(tiff: Buffer): Buffer | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const findTag = (ifd: number, tag: number): { type: number; count: number; valueOffset: number } | undefined => {
    if (ifd + 2 > tiff.length) return undefined;
    const n = u16(ifd);
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      if (e + 12 > tiff.length) return undefined;
      if (u16(e) === tag) return { type: u16(e + 2), count: u32(e + 4), valueOffset: e + 8 };
    }
    return undefined;
  };
  const exifPtr = findTag(u32(4), EXIF_IFD_POINTER);
  if (!exifPtr) return undefined;
  const entry = findTag(u32(exifPtr.valueOffset), EXIF_USER_COMMENT);
  if (!entry) return undefined;
  const size = (TIFF_TYPE_SIZES[entry.type] ?? 1) * entry.count;
  const start = size <= 4 ? entry.valueOffset : u32(entry.valueOffset);
  if (start + size > tiff.length) return undefined;
  return tiff.subarray(start, start + size);
}

/**
 * Decodes an EXIF UserComment: an 8-byte charset code then the text. A1111 (piexif) writes
 * `UNICODE\0` + UTF-16BE; some tools write UTF-16LE, which shows as zero high bytes at odd offsets.
 */
export function decodeUserComment(raw: Buffer): string {
  const code = raw.toString('latin1', 0, 8);
  const body = raw.subarray(8);
  if (code.startsWith('UNICODE')) {
    let zerosEven = 0;
    let zerosOdd = 0;
    for (let i = 0; i + 1 < body.length; i += 2) {
      if (body[i] === 0) zerosEven++;
      if (body[i + 1] === 0) zerosOdd++;
    }
    if (zerosOdd > zerosEven) return body.toString('utf16le').replace(/\0+$/, '');
    const swapped = Buffer.from(body.subarray(0, body.length & ~1));
    swapped.swap16();
    return swapped.toString('utf16le').replace(/\0+$/, '');
  }
  return body.toString(code.startsWith('ASCII') ? 'latin1' : 'utf8').replace(/\0+$/, '');
}

/**
 * Everything an image says about how it was made.
 *
 * @example readImageMetadata(png).parameters // 'a cat\nSteps: 20, ...'
 */
export function readImageMetadata(bytes: Uint8Array): ImageMetadata {
  const format = detectImageFormat(bytes);
  if (!format) throw new ImageFormatError('not a PNG, JPEG or WebP image');
  const items: Record<string, string> = {};
  if (format === 'png') Object.assign(items, readPngTextChunks(bytes));
  else {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tiff = format === 'jpeg' ? jpegExif(b) : webpExif(b);
    const comment = tiff ? tiffUserComment(tiff) : undefined;
    if (comment) items['parameters'] = decodeUserComment(comment);
  }
  const out: ImageMetadata = { format, items };
  // A1111's read_info_from_image pops `parameters` out of items and reports it as `info`.
  if (items['parameters'] !== undefined) {
    out.parameters = items['parameters'];
    delete items['parameters'];
  }
  if (items['prompt'] !== undefined || items['workflow'] !== undefined) {
    out.comfyui = { prompt: parseJson(items['prompt']), workflow: parseJson(items['workflow']) };
  }
  const legacyInvoke = items['sd-metadata'] ?? items['Dream'];
  if (items['invokeai_metadata'] !== undefined || legacyInvoke !== undefined) {
    out.invokeai = {
      metadata: parseJson(items['invokeai_metadata'] ?? items['sd-metadata']),
      workflow: parseJson(items['invokeai_workflow']),
      graph: parseJson(items['invokeai_graph']),
      legacy: legacyInvoke,
    };
  }
  return out;
}

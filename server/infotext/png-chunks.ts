// PNG text chunks (tEXt, zTXt, iTXt): reading every text chunk of a PNG and writing one, the way
// PIL does for A1111 (`PngInfo.add_text`: tEXt when the text is Latin-1, otherwise uncompressed iTXt).
// The chunk layout is from the PNG specification (W3C PNG 3rd edition, section 11.3.3).
import { inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Thrown for bytes that are not a well-formed image of the expected kind. */
export class ImageFormatError extends Error {
  readonly code = 'invalid_image';
  constructor(message: string) {
    super(message);
    this.name = 'ImageFormatError';
  }
}

// The spec limits keywords to 1..79 Latin-1 characters.
const MAX_KEYWORD_LENGTH = 79;
// A decompression bomb in a zTXt/iTXt chunk must not exhaust memory: metadata is never this large.
const MAX_INFLATED_TEXT_BYTES = 16 * 1024 * 1024;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309 / zlib polynomial), as PNG chunks carry over type + data. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngChunk {
  type: string;
  data: Buffer;
  /** Byte offset of the chunk's length field in the file. */
  offset: number;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.equals(Buffer.from(bytes.buffer, bytes.byteOffset, PNG_SIGNATURE.length));
}

/** Splits a PNG into its chunks, checking lengths (not CRCs: readers tolerate what browsers tolerate). */
export function readPngChunks(png: Uint8Array): PngChunk[] {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!isPng(buf)) throw new ImageFormatError('not a PNG file (bad signature)');
  const chunks: PngChunk[] = [];
  let pos = PNG_SIGNATURE.length;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) throw new ImageFormatError(`truncated PNG chunk header at byte ${pos}`);
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (end > buf.length) throw new ImageFormatError(`PNG chunk ${type} at byte ${pos} runs past the end of the file`);
    chunks.push({ type, data: buf.subarray(pos + 8, pos + 8 + length), offset: pos });
    pos = end;
    if (type === 'IEND') break;
  }
  if (chunks[0]?.type !== 'IHDR') throw new ImageFormatError('PNG does not start with an IHDR chunk');
  return chunks;
}

/** Width and height from IHDR. */
export function readPngSize(png: Uint8Array): { width: number; height: number } {
  const ihdr = readPngChunks(png)[0]!;
  if (ihdr.data.length < 8) throw new ImageFormatError('PNG IHDR chunk is too short');
  return { width: ihdr.data.readUInt32BE(0), height: ihdr.data.readUInt32BE(4) };
}

function inflateText(data: Buffer): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: MAX_INFLATED_TEXT_BYTES });
  } catch (err) {
    throw new ImageFormatError(`compressed PNG text chunk could not be inflated: ${(err as Error).message}`);
  }
}

/** Decodes one text chunk to [keyword, text], or undefined when the chunk is not a text chunk. */
function decodeTextChunk(chunk: PngChunk): [string, string] | undefined {
  const { type, data } = chunk;
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return undefined;
  const nul = data.indexOf(0);
  if (nul < 1) throw new ImageFormatError(`PNG ${type} chunk has no keyword`);
  const key = data.toString('latin1', 0, nul);
  if (type === 'tEXt') return [key, data.toString('latin1', nul + 1)];
  if (type === 'zTXt') return [key, inflateText(data.subarray(nul + 2)).toString('latin1')];
  // iTXt: keyword \0 compression-flag compression-method language \0 translated-keyword \0 text (UTF-8)
  const compressed = data[nul + 1] === 1;
  const langEnd = data.indexOf(0, nul + 3);
  const tkeyEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
  if (tkeyEnd < 0) throw new ImageFormatError('PNG iTXt chunk is malformed');
  const body = data.subarray(tkeyEnd + 1);
  return [key, (compressed ? inflateText(body) : body).toString('utf8')];
}

/**
 * Every text chunk of a PNG, keyed by keyword. When a keyword repeats the last chunk wins, as in
 * PIL's `image.info`, which A1111's png-info reads.
 *
 * @example readPngTextChunks(png).parameters // the A1111 infotext
 */
export function readPngTextChunks(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const chunk of readPngChunks(png)) {
    if (chunk.type === 'IDAT') continue;
    const kv = decodeTextChunk(chunk);
    if (kv) out[kv[0]] = kv[1];
  }
  return out;
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function encodeChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4, 8), data), 0);
  return Buffer.concat([head, data, crc]);
}

/** One encoded text chunk: tEXt when `value` is Latin-1, else uncompressed iTXt (PIL's choice). */
export function encodeTextChunk(key: string, value: string): Buffer {
  if (key.length < 1 || key.length > MAX_KEYWORD_LENGTH || !isLatin1(key) || key.includes('\0')) {
    throw new ImageFormatError(`PNG text keyword must be 1..${MAX_KEYWORD_LENGTH} Latin-1 characters, got ${JSON.stringify(key)}`);
  }
  const keyBytes = Buffer.from(key, 'latin1');
  if (isLatin1(value)) return encodeChunk('tEXt', Buffer.concat([keyBytes, Buffer.from([0]), Buffer.from(value, 'latin1')]));
  // flag 0 (uncompressed), method 0, empty language tag, empty translated keyword
  const header = Buffer.from([0, 0, 0, 0, 0]);
  return encodeChunk('iTXt', Buffer.concat([keyBytes, header, Buffer.from(value, 'utf8')]));
}

/**
 * A copy of `png` with exactly one text chunk `key` = `value`: any tEXt/zTXt/iTXt with that keyword
 * is dropped, and the new chunk goes right before the first IDAT (where PIL writes text).
 *
 * @example withPngTextChunk(png, 'parameters', formatInfotext(p))
 */
export function withPngTextChunk(png: Uint8Array, key: string, value: string): Buffer {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const chunks = readPngChunks(buf);
  const encoded = encodeTextChunk(key, value);
  const parts: Buffer[] = [PNG_SIGNATURE];
  let inserted = false;
  for (const chunk of chunks) {
    const raw = buf.subarray(chunk.offset, chunk.offset + 12 + chunk.data.length);
    if (!inserted && (chunk.type === 'IDAT' || chunk.type === 'IEND')) {
      parts.push(encoded);
      inserted = true;
    }
    if (chunk.type === 'tEXt' || chunk.type === 'zTXt' || chunk.type === 'iTXt') {
      const nul = chunk.data.indexOf(0);
      if (nul > 0 && chunk.data.toString('latin1', 0, nul) === key) continue;
    }
    parts.push(raw);
  }
  return Buffer.concat(parts);
}

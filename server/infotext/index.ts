// The infotext module's public surface: A1111 infotext writer and parser, PNG text chunks, and the
// metadata reader for PNG/JPEG/WebP images from A1111, ComfyUI and InvokeAI.
export { formatInfotext, quote, pythonJsonDumps, DEFAULT_INFOTEXT_VERSION } from './format-infotext.js';
export type { InfotextParams, InfotextHash, InfotextValue } from './format-infotext.js';
export { parseInfotext, parseGenerationParameters } from './parse-infotext.js';
export type { ParsedInfotext, ParsedHires, InfotextFieldValue } from './parse-infotext.js';
export { readPngTextChunks, withPngTextChunk, readPngSize, readPngChunks, encodeTextChunk, crc32, isPng, ImageFormatError } from './png-chunks.js';
export { readImageMetadata, detectImageFormat, decodeUserComment } from './image-metadata.js';
export type { ImageMetadata, ImageFormat } from './image-metadata.js';

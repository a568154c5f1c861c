// The infotext A1111's Extras tab writes for an upscale (modules/postprocessing.py): its fields
// joined as `key: quote(value)`, stored in the PNG's `postprocessing` and `extras` text chunks while
// the source's `parameters` chunk is kept as it was.
import { quote } from './format-infotext.js';
import { withPngTextChunk } from './png-chunks.js';

export interface UpscaleInfo {
  /** The upscaler's name as A1111 lists it: the file stem, or Lanczos / Nearest / None. */
  upscaler: string;
  /** "Scale by" value (Extras mode 0). */
  scale?: number;
  /** "Scale to" size (Extras mode 1). */
  width?: number;
  height?: number;
}

/** `Postprocess upscale by: 2, Postprocess upscaler: 4x-UltraSharp` (or `Postprocess upscale to: 1024x768, …`). */
export function formatPostprocessInfo(info: UpscaleInfo): string {
  const fields: Array<[string, string]> = [];
  if (info.width !== undefined && info.height !== undefined) fields.push(['Postprocess upscale to', `${info.width}x${info.height}`]);
  else if (info.scale !== undefined) fields.push(['Postprocess upscale by', String(info.scale)]);
  fields.push(['Postprocess upscaler', info.upscaler]);
  return fields.map(([k, v]) => `${k}: ${quote(v)}`).join(', ');
}

/** A copy of `png` with the source's `parameters` (when it had one) and the extras chunks. */
export function withUpscaleChunks(png: Uint8Array, sourceInfotext: string | undefined, info: UpscaleInfo): Buffer {
  const text = formatPostprocessInfo(info);
  let out = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (sourceInfotext) out = withPngTextChunk(out, 'parameters', sourceInfotext);
  out = withPngTextChunk(out, 'postprocessing', text);
  return withPngTextChunk(out, 'extras', text);
}

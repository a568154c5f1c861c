// Init images, masks and other pictures in a payload are decoded once at submit time, so a corrupt
// or truncated file is refused with `invalid_params` naming the field and the problem, instead of
// failing the job later as `internal` with a raw libvips message. The schema already checked the
// header, the byte size and the pixel count; this is the full decode (on libuv's thread pool, so
// the event loop never waits for it).
import sharp from 'sharp';
import { EaselError } from '../protocol/errors.js';

/** How deep to look for image bytes in a payload (units of adetailer/controlnet sit one level down). */
const MAX_DEPTH = 3;

/** A human reason from libvips' text: truncated, or corrupt, and the decoder's first words. */
export function describeDecodeFailure(message: string): string {
  const detail = message
    .replace(/^Input buffer (has corrupt header|contains unsupported image format):?\s*/i, '')
    .split('\n')[0]!
    .replace(/^Vips\w+:\s*/, '')
    .trim()
    .slice(0, 120);
  if (/premature end|truncat|unexpected end|not enough data|read error|end of (file|stream)/i.test(message)) {
    return `the file is truncated${detail ? ` (${detail})` : ''}`;
  }
  return `its data is corrupt${detail ? ` (${detail})` : ''}`;
}

/**
 * Fully decodes one image; throws `invalid_params` on `field` when it does not decode.
 *
 * @example await verifyImageDecodes(bytes, 'image')
 */
export async function verifyImageDecodes(bytes: Uint8Array, field: string): Promise<void> {
  try {
    // failOn 'warning': a truncated scan that libvips would quietly pad with grey is refused too.
    await sharp(bytes, { failOn: 'warning', limitInputPixels: false }).raw().toBuffer();
  } catch (err) {
    const why = describeDecodeFailure(err instanceof Error ? err.message : String(err));
    throw new EaselError('invalid_params', `${field}: the image does not decode: ${why}`, { field });
  }
}

function collect(value: unknown, path: string, depth: number, out: { bytes: Uint8Array; field: string }[]): void {
  if (value instanceof Uint8Array) {
    out.push({ bytes: value, field: path });
    return;
  }
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) value.forEach((v, i) => collect(v, path ? `${path}.${i}` : String(i), depth + 1, out));
  else for (const [k, v] of Object.entries(value)) collect(v, path ? `${path}.${k}` : k, depth + 1, out);
}

/** Decodes every image of a validated payload (the schemas turn image fields into bytes). */
export async function verifyPayloadImages(payload: unknown): Promise<void> {
  const images: { bytes: Uint8Array; field: string }[] = [];
  collect(payload, '', 0, images);
  for (const { bytes, field } of images) await verifyImageDecodes(bytes, field);
}

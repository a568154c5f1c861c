// File names of downloaded models: taken from the request, the source's metadata, the
// Content-Disposition header or the URL path, and always reduced to one plain name inside the
// model folder (no path parts, no leading dots, a model extension), so a hostile server cannot
// write outside $MODELS_DIR or hide a file.
import { EaselError } from '../../protocol/errors.js';

export const MODEL_EXTENSIONS = ['safetensors', 'ckpt', 'pt', 'pth', 'bin', 'onnx'] as const;
const MODEL_EXT = new RegExp(`\\.(${MODEL_EXTENSIONS.join('|')})$`, 'i');
const MAX_NAME_BYTES = 200;

/**
 * Reduces a name to a safe file name with a model extension, or throws `invalid_params`.
 *
 * @example sanitizeModelFileName('../../x/.evil name?.safetensors') // 'evil name_.safetensors'
 */
export function sanitizeModelFileName(raw: string): string {
  // Only the last path part counts, with either separator.
  let name = raw.split(/[\\/]/).pop() ?? '';
  name = name
    .normalize('NFC')
    // Control characters and the ones Windows or shells trip over.
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .trim()
    .replace(/^[.\s]+/, '');
  // File systems cap names at 255 bytes, and the partial file adds a dot and `.part`.
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    const ext = MODEL_EXT.exec(name)?.[0] ?? '';
    let stem = [...name.slice(0, name.length - ext.length)];
    while (Buffer.byteLength(stem.join('') + ext) > MAX_NAME_BYTES) stem = stem.slice(0, -1);
    name = stem.join('') + ext;
  }
  if (!MODEL_EXT.test(name) || name.replace(MODEL_EXT, '').length === 0) {
    throw new EaselError('invalid_params', `"${raw.slice(0, 100)}" is not a model file name (needs one of .${MODEL_EXTENSIONS.join(', .')}); give a filename`, {
      field: 'filename',
    });
  }
  return name;
}

/** The file name of a Content-Disposition header (RFC 6266: `filename*=UTF-8''...` wins). */
export function fileNameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[2]!.trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header);
  if (!plain) return undefined;
  return (plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1]!).trim();
}

/** The last path segment of a URL, decoded; undefined when it is empty. */
export function fileNameFromUrl(url: URL): string | undefined {
  const last = url.pathname.split('/').pop();
  if (!last) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** True when the name ends in a model extension (so it can serve as a file name as is). */
export function hasModelExtension(name: string | undefined): name is string {
  return name !== undefined && MODEL_EXT.test(name);
}

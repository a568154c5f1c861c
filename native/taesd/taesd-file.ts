// Reading a TAESD / TAESDXL decoder file in either layout people have:
// - the original (madebyollin/taesd `taesd_decoder.pth` / `.safetensors`, A1111's
//   models/VAE-approx): the decoder Sequential's keys, `1.weight`, `3.conv.0.weight`, ...;
// - diffusers AutoencoderTiny (`diffusion_pytorch_model.safetensors` of madebyollin/taesd{,xl},
//   what the starter catalog installs as taesd.safetensors): `decoder.layers.N...` with N one less
//   (no Clamp layer), beside the encoder's tensors, which are ignored.
// The decoder is ~1.2 M parameters, so its tensors are read into memory once.
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SafetensorsError, SafetensorsFile } from '../io/safetensors.js';
import { PickleError, TorchFileError, ZipError, openTorchFile, stateDictTensors } from '../io/torch-file.js';
import { memoryWeightSource, type WeightSource } from '../runtime/weights.js';
import { decoderTensorShapes } from './architecture.js';
import { TaesdError } from './taesd-error.js';

export const TAESD_EXTENSIONS = ['.safetensors', '.pth', '.pt'] as const;

export type TaesdLayout = 'original' | 'diffusers';
/** Which latent space the decoder was trained on: TAESD (SD1.x/2.x) or TAESDXL. */
export type TaesdFamily = 'sd1' | 'sdxl';

export interface TaesdFile {
  readonly path: string;
  readonly layout: TaesdLayout;
  /** From the file name (`taesdxl…` → sdxl): the two decoders have the same shapes. */
  readonly family: TaesdFamily;
  readonly channels: number;
  readonly latentChannels: number;
  /** Tensors under the original layout's keys. */
  readonly source: WeightSource;
}

const DIFFUSERS_PREFIX = 'decoder.layers.';

/** The original-layout key of a file key, or null when the key is not a decoder tensor. */
function canonicalKey(key: string, layout: TaesdLayout): string | null {
  if (layout === 'original') return /^\d+\./.test(key) ? key : null;
  if (!key.startsWith(DIFFUSERS_PREFIX)) return null;
  const m = /^(\d+)(\..+)$/.exec(key.slice(DIFFUSERS_PREFIX.length));
  return m ? `${Number(m[1]) + 1}${m[2]}` : null;
}

/** Family from the file name: A1111 and the starter catalog name TAESDXL files `taesdxl…`. */
export function taesdFamilyOf(path: string): TaesdFamily {
  return /taesdxl|sdxl|(^|[^a-z])xl([^a-z]|$)/i.test(basename(path)) ? 'sdxl' : 'sd1';
}

interface RawTensors {
  keys: string[];
  shape(key: string): readonly number[];
  read(key: string): Promise<Float32Array>;
  close(): Promise<void>;
}

async function openRaw(path: string): Promise<RawTensors> {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') {
    const f = await SafetensorsFile.open(path);
    return { keys: f.keys(), shape: (k) => f.info(k)!.shape, read: (k) => f.readFloat32(k), close: () => f.close() };
  }
  if (ext === '.pth' || ext === '.pt') {
    const f = await openTorchFile(path);
    const tensors = stateDictTensors(f.root);
    return { keys: [...tensors.keys()], shape: (k) => tensors.get(k)!.shape, read: (k) => tensors.get(k)!.toFloat32(), close: () => f.close() };
  }
  throw new TaesdError('bad_taesd_file', `${path}: unsupported file type "${ext}" (expected ${TAESD_EXTENSIONS.join(', ')})`);
}

function wrapReadError(path: string, err: unknown): unknown {
  if (err instanceof TaesdError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof PickleError && err.code === 'unsafe_pickle') {
    return new TaesdError('unsafe_model_file', `${path}: refused, the pickle asks for code outside the tensor allow-list (${detail})`, { cause: err });
  }
  if (err instanceof SafetensorsError || err instanceof TorchFileError || err instanceof ZipError || err instanceof PickleError) {
    return new TaesdError('bad_taesd_file', `${path} is not a readable model file (truncated or damaged?): ${detail}`, { cause: err });
  }
  return err;
}

/**
 * Reads and checks a TAESD decoder file (either layout). Errors (TaesdError): `taesd_not_found`,
 * `bad_taesd_file` (unreadable, an encoder, tensors missing or misshapen, not 4 latent channels),
 * `unsafe_model_file`.
 *
 * @example const f = await readTaesdFile('models/vae-approx/taesd.safetensors'); f.layout // 'diffusers'
 */
export async function readTaesdFile(path: string): Promise<TaesdFile> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    throw new TaesdError('taesd_not_found', `TAESD file not found: ${path}`);
  }
  let raw: RawTensors;
  try {
    raw = await openRaw(path);
  } catch (err) {
    throw wrapReadError(path, err);
  }
  try {
    const layout: TaesdLayout = raw.keys.some((k) => k.startsWith(DIFFUSERS_PREFIX)) ? 'diffusers' : 'original';
    const byCanonical = new Map<string, string>();
    for (const k of raw.keys) {
      const c = canonicalKey(k, layout);
      if (c) byCanonical.set(c, k);
    }
    const first = byCanonical.get('1.weight');
    if (!first) {
      throw new TaesdError('bad_taesd_file', `${path}: no TAESD decoder input conv (${layout === 'diffusers' ? 'decoder.layers.0.weight' : '1.weight'}); is it an encoder or another model?`);
    }
    const [channels, latentChannels] = raw.shape(first) as [number, number];
    if (latentChannels !== 4) {
      throw new TaesdError('bad_taesd_file', `${path}: decoder takes ${latentChannels} latent channels; only the 4-channel TAESD/TAESDXL (SD1.x, SDXL) are supported`);
    }
    const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const [key, shape] of decoderTensorShapes(channels, latentChannels)) {
      const fileKey = byCanonical.get(key);
      if (!fileKey) throw new TaesdError('bad_taesd_file', `${path}: missing decoder tensor ${key} (${layout} layout)`);
      const got = raw.shape(fileKey);
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        throw new TaesdError('bad_taesd_file', `${path}: ${fileKey} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
      }
      tensors[key] = { shape, data: await raw.read(fileKey) };
    }
    return { path, layout, family: taesdFamilyOf(path), channels, latentChannels, source: memoryWeightSource(tensors) };
  } catch (err) {
    throw wrapReadError(path, err);
  } finally {
    await raw.close();
  }
}

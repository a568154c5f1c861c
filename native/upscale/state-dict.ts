// Reading an upscaler file into a flat key → tensor map, the way spandrel 0.3.4 does before it
// detects the architecture: `.pth`/`.ckpt` through the non-executing pickle reader, `.safetensors`
// directly; then the wrappers (`params_ema`, `params`, `state_dict`, `model`, `net`, ...) are
// unwrapped, a lone nested dict is unwrapped, and a `module.` / `netG.` prefix shared by every key is
// dropped. Tensors stay lazy: only shapes are known until the graph's weights are filled.
import { extname } from 'node:path';
import { stat } from 'node:fs/promises';
import { SafetensorsError, SafetensorsFile } from '../io/safetensors.js';
import { PickleError, TorchFileError, ZipError, isTorchTensor, openTorchFile, type PickleValue, type TorchTensor } from '../io/torch-file.js';
import { UpscaleError } from './upscale-error.js';

export interface LazyTensor {
  readonly shape: readonly number[];
  read(): Promise<Float32Array>;
}

export interface UpscalerStateDict {
  /** Keys in file order (spandrel's conversions depend on the order only for the output order). */
  readonly tensors: ReadonlyMap<string, LazyTensor>;
  close(): Promise<void>;
}

/** spandrel's canonicalize_state_dict: the first of these that is present and a dict wins. */
const WRAPPERS = ['model_state_dict', 'state_dict', 'params_ema', 'params-ema', 'params', 'model', 'net'];
const PREFIXES = ['module.', 'netG.'];

export const UPSCALER_EXTENSIONS = ['.pth', '.pt', '.ckpt', '.safetensors'] as const;

type Dict = Map<string | number | bigint | boolean | null, PickleValue>;

function isDict(v: PickleValue | undefined): v is Dict {
  return v instanceof Map;
}

function unwrap(root: PickleValue): Dict | null {
  if (!isDict(root)) return null;
  let dict: Dict = root;
  for (const w of WRAPPERS) {
    const inner = dict.get(w);
    if (isDict(inner)) {
      dict = inner;
      break;
    }
  }
  if (dict.size === 1) {
    const only = [...dict.values()][0];
    if (isDict(only)) dict = only;
  }
  return dict;
}

function stripPrefix<T>(entries: Array<[string, T]>): Array<[string, T]> {
  for (const p of PREFIXES) {
    if (entries.length > 0 && entries.every(([k]) => k.startsWith(p))) return entries.map(([k, v]) => [k.slice(p.length), v]);
  }
  return entries;
}

function badFile(path: string, err: unknown): UpscaleError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof PickleError && err.code === 'unsafe_pickle') {
    return new UpscaleError('unsafe_model_file', `${path}: refused, the pickle asks for code outside the tensor allow-list (${detail})`, { cause: err });
  }
  return new UpscaleError('bad_upscaler_file', `${path} is not a readable model file (truncated or damaged?): ${detail}`, { cause: err });
}

async function readTorch(path: string): Promise<UpscalerStateDict> {
  const file = await openTorchFile(path);
  const dict = unwrap(file.root);
  const entries: Array<[string, TorchTensor]> = [];
  if (dict) {
    for (const [k, v] of dict) if (typeof k === 'string' && isTorchTensor(v)) entries.push([k, v]);
  }
  const tensors = new Map<string, LazyTensor>();
  for (const [k, t] of stripPrefix(entries)) {
    tensors.set(k, {
      shape: t.shape,
      read: () => t.toFloat32().catch((err: unknown) => Promise.reject(badFile(path, err))),
    });
  }
  return { tensors, close: () => file.close() };
}

async function readSafetensors(path: string): Promise<UpscalerStateDict> {
  const file = await SafetensorsFile.open(path);
  const entries: Array<[string, string]> = file.keys().map((k) => [k, k]);
  const tensors = new Map<string, LazyTensor>();
  for (const [k, name] of stripPrefix(entries)) {
    const info = file.info(name)!;
    tensors.set(k, {
      shape: info.shape,
      read: () => file.readFloat32(name).catch((err: unknown) => Promise.reject(badFile(path, err))),
    });
  }
  return { tensors, close: () => file.close() };
}

/**
 * Opens an upscaler file and returns its canonical state dict (lazy tensors). Errors:
 * `upscaler_not_found`, `bad_upscaler_file` (truncated, not a model, unsafe pickle).
 *
 * @example const sd = await readUpscalerStateDict('models/upscalers/4x-UltraSharp.pth');
 */
export async function readUpscalerStateDict(path: string): Promise<UpscalerStateDict> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a file');
  } catch {
    throw new UpscaleError('upscaler_not_found', `upscaler file not found: ${path}`);
  }
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.safetensors') return await readSafetensors(path);
    if (ext === '.pth' || ext === '.pt' || ext === '.ckpt' || ext === '.bin') return await readTorch(path);
  } catch (err) {
    if (err instanceof UpscaleError) throw err;
    if (err instanceof SafetensorsError || err instanceof TorchFileError || err instanceof ZipError || err instanceof PickleError) throw badFile(path, err);
    throw err;
  }
  throw new UpscaleError('bad_upscaler_file', `${path}: unsupported file type "${ext}" (expected .pth, .pt, .ckpt or .safetensors)`);
}

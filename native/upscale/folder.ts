// The upscaler folder ($MODELS_DIR/upscalers): which files are there and which one a name means.
// A1111 names its ESRGAN-folder upscalers after the file stem ("4x-UltraSharp"); Easel accepts the
// stem or the file name.
import { readdir } from 'node:fs/promises';
import { extname, join, parse } from 'node:path';
import { UPSCALER_EXTENSIONS } from './state-dict.js';
import { BUILTIN_UPSCALERS, type BuiltinUpscaler } from './upscale.js';
import { UpscaleError } from './upscale-error.js';

export interface UpscalerFile {
  /** The stem, as A1111 shows it. */
  name: string;
  file: string;
  path: string;
}

/** Upscaler files in `dir` (not recursive), sorted by name; a missing folder is empty. */
export async function listUpscalerFiles(dir: string): Promise<UpscalerFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => (UPSCALER_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
    .sort()
    .map((file) => ({ name: parse(file).name, file, path: join(dir, file) }));
}

export function isBuiltinUpscaler(name: string): name is BuiltinUpscaler {
  return (BUILTIN_UPSCALERS as readonly string[]).includes(name);
}

/** The file an upscaler name (stem or file name) means in `dir`; `upscaler_not_found` otherwise. */
export async function resolveUpscalerFile(dir: string, name: string): Promise<UpscalerFile> {
  const files = await listUpscalerFiles(dir);
  const hit = files.find((f) => f.file === name) ?? files.find((f) => f.name === name);
  if (!hit) {
    const known = [...BUILTIN_UPSCALERS, ...files.map((f) => f.name)].join(', ');
    throw new UpscaleError('upscaler_not_found', `no upscaler "${name}" in ${dir} (available: ${known})`);
  }
  return hit;
}

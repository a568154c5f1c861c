// Where TAESD decoders are installed and which one a model family uses: `$MODELS_DIR/vae-approx/`
// (the starter catalog's folder for the `vae_approx` type) or A1111's `VAE-approx/` spelling.
// Recognised names, best first: the catalog's `taesd.safetensors` / `taesdxl.safetensors`, then
// madebyollin's `taesd_decoder.*` / `taesdxl_decoder.*`, then any other `taesd*` file of the family.
// `TaesdCache` keeps the last decoder per family open and reopens it when its file changes.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Device, EngineRuntime } from '../runtime/ort-backend.js';
import { loadTaesdDecoder, type TaesdDecoder } from './taesd-decoder.js';
import { TAESD_EXTENSIONS, taesdFamilyOf, type TaesdFamily } from './taesd-file.js';

export const TAESD_FOLDERS = ['vae-approx', 'VAE-approx'] as const;

function rank(name: string, family: TaesdFamily): number {
  const stem = name.slice(0, -extname(name).length).toLowerCase();
  const base = family === 'sdxl' ? 'taesdxl' : 'taesd';
  if (stem === base) return 0;
  if (stem === `${base}_decoder`) return extname(name).toLowerCase() === '.safetensors' ? 1 : 2;
  return 3;
}

/** The TAESD decoder file for `family` under `modelsDir`, or null when none is installed. */
export function findTaesdFile(modelsDir: string, family: TaesdFamily): string | null {
  const found: string[] = [];
  for (const folder of TAESD_FOLDERS) {
    const dir = join(modelsDir, folder);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (!name.toLowerCase().startsWith('taesd') || /encoder/i.test(name)) continue;
      if (!(TAESD_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())) continue;
      if (taesdFamilyOf(name) !== family || !statSync(p).isFile()) continue;
      found.push(p);
    }
  }
  found.sort((a, b) => rank(basename(a), family) - rank(basename(b), family) || a.localeCompare(b));
  return found[0] ?? null;
}

export interface TaesdCacheOptions {
  modelsDir: string;
  device?: Device;
  runtime?: EngineRuntime;
  /** Called once per file that cannot be used (previews then fall back to the cheap method). */
  onBadFile?: (path: string, err: unknown) => void;
}

/** The installed decoder per family, opened on first use and kept until its file changes. */
export class TaesdCache {
  private readonly open = new Map<TaesdFamily, { version: string; decoder: TaesdDecoder | null }>();

  constructor(private readonly opts: TaesdCacheOptions) {}

  /** The decoder for `family`, or null when none is installed or its file is unusable. */
  async get(family: TaesdFamily): Promise<TaesdDecoder | null> {
    const path = findTaesdFile(this.opts.modelsDir, family);
    const st = path ? statSync(path) : null;
    const version = path && st ? `${path}:${st.size}:${st.mtimeMs}` : '';
    const cur = this.open.get(family);
    if (cur && cur.version === version) return cur.decoder;
    await cur?.decoder?.dispose();
    let decoder: TaesdDecoder | null = null;
    if (path) {
      try {
        decoder = await loadTaesdDecoder(path, { device: this.opts.device, runtime: this.opts.runtime });
      } catch (err) {
        this.opts.onBadFile?.(path, err);
      }
    }
    this.open.set(family, { version, decoder });
    return decoder;
  }

  async dispose(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((e) => e.decoder?.dispose()));
  }
}

// Finding a unit's ControlNet in `$MODELS_DIR/controlnet/` by the name a client gives — the
// extension's `name [hash8]` title, a file name (with or without extension, in a subfolder), or a
// diffusers folder's name — confined to that folder; and reading the worker's `controlnet` param.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { ControlNetUnitRequest } from '../pipelines/types.js';
import { ControlNetError } from './controlnet-error.js';
import { CONTROLNET_EXTENSIONS } from './controlnet-file.js';
import { controlNetModelStem } from './units.js';

function isModel(path: string): boolean {
  if (!existsSync(path)) return false;
  const st = statSync(path);
  if (st.isDirectory()) return existsSync(join(path, 'config.json'));
  return st.isFile() && (CONTROLNET_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** Every ControlNet below `root`: files with a model extension and folders with config.json (relative, `/`). */
export function listControlNets(root: string): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).filter((f) => isModel(join(root, f))).sort();
}

/**
 * The path of the ControlNet `name` under `root`; throws ControlNetError `controlnet_not_found`.
 *
 * @example resolveControlNetFile('/models/controlnet', 'control_v11p_sd15_canny [d14c016b]') // '/models/controlnet/control_v11p_sd15_canny.pth'
 */
export function resolveControlNetFile(root: string, name: string): string {
  const stem = controlNetModelStem(name);
  for (const n of [name, stem]) {
    for (const candidate of [n, ...CONTROLNET_EXTENSIONS.map((e) => n + e)]) {
      const p = resolve(root, candidate);
      if (p.startsWith(root + sep) && isModel(p)) return p;
    }
  }
  const all = listControlNets(root);
  const lower = stem.toLowerCase();
  const byStem = all.find((f) => basename(f, extname(f)).toLowerCase() === lower || f.slice(0, f.length - extname(f).length).toLowerCase() === lower);
  if (byStem) return join(root, byStem);
  throw new ControlNetError('controlnet_not_found', `ControlNet "${name}" not found in ${root}`);
}

function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  // base64 as the extension's API takes it (bare or a data URL), should a client pass it through.
  if (typeof v === 'string' && v.length > 0) return new Uint8Array(Buffer.from(v.replace(/^data:[^,]*,/, ''), 'base64'));
  return undefined;
}

/** The worker's `controlnet` param (the protocol's validated units, images as bytes) → request units. */
export function toControlNetUnits(v: unknown): ControlNetUnitRequest[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  return v.map((raw: unknown) => {
    const u = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const out: ControlNetUnitRequest = { ...(u as unknown as ControlNetUnitRequest) };
    out.image = bytesOf(u.image);
    out.mask = bytesOf(u.mask);
    if (out.image === undefined) delete out.image;
    if (out.mask === undefined) delete out.mask;
    return out;
  });
}

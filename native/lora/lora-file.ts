// Reading a LoRA / LyCORIS .safetensors file into modules keyed by the checkpoint weight they
// modify, and the hashes A1111 records for it. Module names this engine cannot map (other
// architectures, exotic targets) and module types it does not implement are listed in `skipped`
// rather than failing the whole file: A1111 logs and skips them the same way.
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SafetensorsFile } from '../io/safetensors.js';
import { hashModelFile } from '../models/file-hashes.js';
import type { SupportedFamily } from '../models/config.js';
import { loraTargetCandidates, partOfKey, splitTarget } from './kohya-keys.js';
import { NetworkError } from './lora-error.js';
import type { LoraModule, LoraModuleWeights, Tensor } from './lora-math.js';

export interface LoraNetwork {
  path: string;
  /** File name without extension. */
  name: string;
  /** Target checkpoint key → module. */
  modules: Map<string, { moduleName: string; module: LoraModule }>;
  /** Module names (with the reason) that were not applied. */
  skipped: string[];
  metadata: Record<string, string>;
}

const KNOWN_PARTS = new Set([
  'lora_down.weight', 'lora_up.weight', 'lora_mid.weight', 'alpha', 'scale',
  'hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b', 'hada_t1', 'hada_t2',
  'lokr_w1', 'lokr_w1_a', 'lokr_w1_b', 'lokr_w2', 'lokr_w2_a', 'lokr_w2_b', 'lokr_t2',
]);

function toModule(parts: Map<string, Tensor>): LoraModule | string {
  const unknown = [...parts.keys()].filter((p) => !KNOWN_PARTS.has(p));
  if (unknown.length > 0) return `unsupported tensors ${unknown.join(', ')}`;
  const get = (p: string): Tensor | undefined => parts.get(p);
  let weights: LoraModuleWeights | undefined;
  const up = get('lora_up.weight'), down = get('lora_down.weight');
  if (up && down) weights = { kind: 'lora', up, down, mid: get('lora_mid.weight') };
  else if (get('hada_w1_a') && get('hada_w1_b') && get('hada_w2_a') && get('hada_w2_b')) {
    weights = { kind: 'loha', w1a: get('hada_w1_a')!, w1b: get('hada_w1_b')!, w2a: get('hada_w2_a')!, w2b: get('hada_w2_b')!, t1: get('hada_t1'), t2: get('hada_t2') };
  } else {
    const has1 = get('lokr_w1') || (get('lokr_w1_a') && get('lokr_w1_b'));
    const has2 = get('lokr_w2') || (get('lokr_w2_a') && get('lokr_w2_b'));
    if (has1 && has2) {
      weights = { kind: 'lokr', w1: get('lokr_w1'), w1a: get('lokr_w1_a'), w1b: get('lokr_w1_b'), w2: get('lokr_w2'), w2a: get('lokr_w2_a'), w2b: get('lokr_w2_b'), t2: get('lokr_t2') };
    }
  }
  if (!weights) return `incomplete module (${[...parts.keys()].join(', ')})`;
  const alpha = get('alpha')?.data[0];
  const scale = get('scale')?.data[0];
  const m: LoraModule = { weights };
  if (alpha !== undefined) m.alpha = alpha;
  if (scale !== undefined) m.scale = scale;
  return m;
}

/** The header of a LoRA file, with a header error reported as `bad_lora_file` naming the file. */
async function openLoraSafetensors(path: string): Promise<SafetensorsFile> {
  try {
    return await SafetensorsFile.open(path);
  } catch (err) {
    throw new NetworkError('bad_lora_file', `${basename(path)}: ${(err as Error).message}`);
  }
}

/**
 * Loads every module of a LoRA file (float32, in memory: LoRA files are small next to a checkpoint).
 * `targetShape` tells which checkpoint keys exist; modules whose target is missing are skipped.
 *
 * @example const net = await readLoraFile('models/loras/add_detail.safetensors', (k) => ckpt.shape(k))
 * @throws NetworkError `bad_lora_file` for files that are not safetensors or hold no LoRA module
 */
export async function readLoraFile(
  path: string,
  targetShape: (key: string) => readonly number[] | undefined,
  family: SupportedFamily = 'sd1',
): Promise<LoraNetwork> {
  if (extname(path).toLowerCase() !== '.safetensors') {
    throw new NetworkError('unsupported_format', `${basename(path)}: only .safetensors LoRA files are supported`);
  }
  const file = await openLoraSafetensors(path);
  try {
    const grouped = new Map<string, Map<string, Tensor>>();
    for (const key of file.keys()) {
      const dot = key.indexOf('.');
      if (dot < 0) continue;
      const moduleName = key.slice(0, dot);
      const info = file.info(key)!;
      let g = grouped.get(moduleName);
      if (!g) grouped.set(moduleName, (g = new Map()));
      g.set(key.slice(dot + 1), { shape: [...info.shape], data: await file.readFloat32(key) });
    }
    const modules = new Map<string, { moduleName: string; module: LoraModule }>();
    const skipped: string[] = [];
    for (const [moduleName, parts] of grouped) {
      const target = loraTargetCandidates(moduleName, family).find((t) => targetShape(splitTarget(t).key));
      if (!target) {
        skipped.push(`${moduleName}: no matching weight in this model`);
        continue;
      }
      const m = toModule(parts);
      if (typeof m === 'string') skipped.push(`${moduleName}: ${m}`);
      else modules.set(target, { moduleName, module: m });
    }
    if (modules.size === 0) {
      throw new NetworkError('bad_lora_file', `${basename(path)}: no LoRA module matches this model (${skipped.length} skipped${skipped[0] ? `, e.g. ${skipped[0]}` : ''})`);
    }
    return { path, name: basename(path, extname(path)), modules, skipped, metadata: file.metadata };
  } finally {
    await file.close();
  }
}

const hashCache = new Map<string, string>();

/**
 * kohya's "addnet" hash (Civitai AutoV3): the file's `sshs_model_hash` metadata when the trainer
 * wrote one, else sha256 of the safetensors bytes after the header, as A1111's
 * NetworkOnDisk.set_hash does. The first 12 hex digits are the `Lora hashes` short hash.
 */
export async function loraAddnetHash(path: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = hashCache.get(key);
  if (hit) return hit;
  const file = await openLoraSafetensors(path);
  let declared: string;
  try {
    declared = file.metadata.sshs_model_hash ?? '';
  } finally {
    await file.close();
  }
  const hex = declared || (await hashModelFile(path)).addnetSha256;
  if (!hex) throw new NetworkError('bad_lora_file', `${basename(path)}: not a readable safetensors file`);
  hashCache.set(key, hex);
  return hex;
}

/**
 * The parts a LoRA file changes, from its header alone (no tensor is read).
 *
 * @throws NetworkError `bad_lora_file` when the file is not a readable safetensors file
 */
export async function loraFileParts(path: string, family: SupportedFamily = 'sd1'): Promise<Set<'unet' | 'textEncoder'>> {
  const file = await openLoraSafetensors(path);
  try {
    const parts = new Set<'unet' | 'textEncoder'>();
    for (const key of file.keys()) {
      const target = loraTargetCandidates(key.slice(0, Math.max(0, key.indexOf('.'))), family)[0];
      const part = target ? partOfKey(target) : 'other';
      if (part !== 'other') parts.add(part);
    }
    return parts;
  } finally {
    await file.close();
  }
}

/** The family a LoRA file was trained for, or 'unknown' when neither metadata nor keys tell. */
export type LoraFamily = 'sd1' | 'sd2' | 'sdxl' | 'unknown';

/**
 * The family of a LoRA file from its header: kohya's `ss_base_model_version` / modelspec architecture
 * when present, else the key names (`lora_te1_`/`lora_te2_`/sgm block names = SDXL, `lora_te_` = SD1
 * or SD2), else the width of a cross-attention key projection (768 SD1, 1024 SD2, 2048 SDXL).
 *
 * @throws NetworkError `bad_lora_file` when the file is not a readable safetensors file
 */
export async function loraFamily(path: string): Promise<LoraFamily> {
  const file = await openLoraSafetensors(path);
  try {
    const base = (file.metadata.ss_base_model_version ?? file.metadata['modelspec.architecture'] ?? '').toLowerCase();
    if (base.includes('sdxl') || base.includes('stable-diffusion-xl')) return 'sdxl';
    if (base.startsWith('sd_v2') || base.includes('stable-diffusion-v2')) return 'sd2';
    if (base.startsWith('sd_v1') || base.includes('stable-diffusion-v1')) return 'sd1';
    const keys = file.keys();
    if (keys.some((k) => /^lora_te[12]_|^lora_unet_(input_blocks|output_blocks|middle_block)_/.test(k))) return 'sdxl';
    const toK = keys.find((k) => /attn2_to_k\.(lora_down\.weight|hada_w1_b|lokr_w2)$/.test(k));
    const width = toK ? file.info(toK)!.shape[1] : undefined;
    if (width === 2048) return 'sdxl';
    if (width === 1024) return 'sd2';
    if (width === 768) return 'sd1';
    return keys.some((k) => k.startsWith('lora_te_')) ? 'sd1' : 'unknown';
  } finally {
    await file.close();
  }
}

// Model types that are folders, not files: a prompt expander is a Hugging Face repository folder
// (config.json, weights, tokenizer files) in $MODELS_DIR/prompt-expanders/<name>/. The registry lists
// each such folder once, by folder name, with its weight file's size (and, later, hashes).
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelType } from '../protocol/actions.js';

/** The types whose entries are folders. */
export const FOLDER_MODEL_TYPES: ReadonlySet<ModelType> = new Set<ModelType>(['prompt_expander']);

/** Weight files of a GPT-2 folder, in the order the engine prefers them (native/lm/gpt2-weights.ts). */
export const EXPANDER_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

export interface ScannedFolder {
  /** The weight file (what gets hashed). */
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/** Folders directly under `root` holding config.json and a weight file; hidden ones (downloads in progress) skipped. */
export async function scanModelFolders(root: string): Promise<ScannedFolder[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: ScannedFolder[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = join(root, e.name);
    if (!existsSync(join(dir, 'config.json'))) continue;
    const weights = EXPANDER_WEIGHT_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!weights) continue;
    const s = await stat(weights).catch(() => undefined);
    if (s) out.push({ path: weights, name: e.name, size: s.size, mtimeMs: s.mtimeMs });
  }
  return out;
}

// The model registry, for now a scan of $MODELS_DIR: each type has its folder, names are paths
// relative to it (so `model: "sd15/v1-5.safetensors"` works), and nothing outside it is listed.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ModelEntry, ModelType } from '../protocol/actions.js';

export const MODEL_FOLDERS: Record<ModelType, string> = {
  checkpoint: 'checkpoints',
  lora: 'loras',
  vae: 'vae',
  embedding: 'embeddings',
  controlnet: 'controlnet',
  upscaler: 'upscalers',
  detector: 'detectors',
};

const MODEL_EXT = /\.(safetensors|ckpt|pt|pth|bin|onnx)$/i;
const MAX_DEPTH = 3;

async function walk(root: string, dir: string, depth: number, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a missing folder just means no models of that type
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    // Symlinks are skipped on purpose: a link could point outside the models folder.
    if (e.isDirectory() && depth < MAX_DEPTH) await walk(root, full, depth + 1, out);
    else if (e.isFile() && MODEL_EXT.test(e.name)) out.push(full);
  }
}

/**
 * Lists the models under `modelsDir`, optionally of one type, sorted by name.
 *
 * @example await listModels('./models', 'lora') // [{ name: 'detail.safetensors', type: 'lora', size_bytes: 151_000_000 }]
 */
export async function listModels(modelsDir: string, type?: ModelType): Promise<ModelEntry[]> {
  const types = type ? [type] : (Object.keys(MODEL_FOLDERS) as ModelType[]);
  const out: ModelEntry[] = [];
  for (const t of types) {
    const root = join(modelsDir, MODEL_FOLDERS[t]);
    const files: string[] = [];
    await walk(root, root, 0, files);
    for (const f of files) {
      const s = await stat(f);
      out.push({ name: relative(root, f).split(sep).join('/'), type: t, size_bytes: s.size });
    }
  }
  return out.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

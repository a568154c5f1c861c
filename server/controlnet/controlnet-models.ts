// The ControlNet files of $MODELS_DIR/controlnet as the extension names them: `stem [hash8]`, with
// hash8 = A1111's old `sd_models.model_hash` (sha256 of the 64 KiB at offset 1 MiB: cheap, one small
// read per file, cached by path + size + mtime), sorted by file name as GET /controlnet/model_list
// answers. `resolve` finds a unit's model the way the extension's `find_closest_lora_model_name`
// does: the exact title, then the stem (case-insensitive), then the shortest stem containing it;
// Easel's registry names (`sub/control_x.safetensors`) work too.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelEntry, ModelType } from '../protocol/actions.js';
import { SafetensorsFile } from '../../native/io/safetensors.js';
import { legacyModelHash } from '../../native/models/model-hash.js';
import { controlNetFamily } from '../models/controlnet-family.js';

const MODEL_EXT = /\.(safetensors|ckpt|pt|pth|bin)$/i;

export interface ControlNetModel {
  /** Registry name (path inside $MODELS_DIR/controlnet): what the engine loads. */
  name: string;
  /** `stem [hash8]`, the extension's model name. */
  title: string;
  stem: string;
  /** sd1, sd2, sdxl or unknown (header shapes only). */
  family: string;
}

async function headerFamily(path: string): Promise<string> {
  if (!path.toLowerCase().endsWith('.safetensors')) return 'unknown';
  try {
    const file = await SafetensorsFile.open(path);
    try {
      const keys = file.keys();
      return controlNetFamily(keys, (k) => file.info(k));
    } finally {
      await file.close();
    }
  } catch {
    return 'unknown';
  }
}

export interface ControlNetModelsOptions {
  modelsDir: string;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
}

export class ControlNetModels {
  private readonly cache = new Map<string, { key: string; hash: string; family: string }>();

  constructor(private readonly opts: ControlNetModelsOptions) {}

  /** Every ControlNet file, sorted by file name (the extension's default `name` order). */
  async list(): Promise<ControlNetModel[]> {
    const entries = (await this.opts.listModels('controlnet')).filter((m) => MODEL_EXT.test(m.name));
    const out: ControlNetModel[] = [];
    for (const m of entries) {
      const path = join(this.opts.modelsDir, 'controlnet', m.name);
      const st = await stat(path).catch(() => undefined);
      if (!st) continue;
      const key = `${st.size}:${st.mtimeMs}`;
      let c = this.cache.get(path);
      if (c?.key !== key) {
        // A cached `unknown` from before ControlNet families were read is looked at again here.
        const family = m.family && m.family !== 'unknown' ? m.family : await headerFamily(path);
        c = { key, hash: await legacyModelHash(path), family };
        this.cache.set(path, c);
      }
      const stem = basename(m.name).replace(MODEL_EXT, '');
      // The extension never lists a file named None.
      if (stem === 'None') continue;
      out.push({ name: m.name, title: `${stem} [${c.hash}]`, stem, family: c.family });
    }
    return out.sort((a, b) => (basename(a.name) < basename(b.name) ? -1 : basename(a.name) > basename(b.name) ? 1 : 0));
  }

  /** The file a unit's `model` names, or undefined. */
  async resolve(model: string): Promise<ControlNetModel | undefined> {
    const all = await this.list();
    const exact = all.find((m) => m.title === model || m.name === model);
    if (exact) return exact;
    const q = model.toLowerCase();
    const byStem = all.find((m) => m.stem.toLowerCase() === q);
    if (byStem) return byStem;
    return all.filter((m) => m.stem.toLowerCase().includes(q)).sort((a, b) => a.stem.length - b.stem.length)[0];
  }
}

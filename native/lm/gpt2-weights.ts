// The weights of a GPT-2 folder as one WeightSource with canonical `transformer.*` keys, whatever the
// file: `model.safetensors` (preferred) or `pytorch_model.bin` through the restricted pickle reader
// (never executes pickled code). Differences between real files handled here (fixture README §2):
// bare GPT2Model dicts without the `transformer.` prefix, old files with the causal-mask buffers
// `attn.bias` / `attn.masked_bias` (ignored: the graph builds its own mask), `lm_head.weight` saved
// beside the tied `transformer.wte.weight`, and F16/BF16 weights (read as float32).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../io/safetensors.js';
import { openTorchFile, stateDictTensors } from '../io/torch-file.js';
import type { WeightSource } from '../runtime/weights.js';
import { LmError } from './lm-error.js';

export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

export interface Gpt2Weights extends WeightSource {
  readonly path: string;
  keys(): string[];
  close(): Promise<void>;
}

const IGNORED = /\.attn\.(bias|masked_bias)$/;

/** `h.0.ln_1.weight` → `transformer.h.0.ln_1.weight`; `lm_head.weight` stays. */
export function canonicalGpt2Key(key: string): string | undefined {
  if (IGNORED.test(key)) return undefined;
  if (key.startsWith('transformer.') || key.startsWith('lm_head.')) return key;
  return `transformer.${key}`;
}

interface Entry {
  shape: readonly number[];
  read(): Promise<Float32Array>;
}

/** Opens the weights of a GPT-2 folder. @throws LmError `lm_model_not_found` when neither file is there. */
export async function openGpt2Weights(dir: string): Promise<Gpt2Weights> {
  const name = WEIGHT_FILES.find((f) => existsSync(join(dir, f)));
  if (!name) throw new LmError('lm_model_not_found', `${dir} has no ${WEIGHT_FILES.join(' or ')}`);
  const path = join(dir, name);
  const entries = new Map<string, Entry>();
  const add = (key: string, e: Entry): void => {
    const k = canonicalGpt2Key(key);
    if (k === undefined) return;
    if (entries.has(k)) throw new LmError('lm_bad_weight', `${path}: two tensors map to "${k}"`);
    entries.set(k, e);
  };
  let close: () => Promise<void>;
  if (name.endsWith('.safetensors')) {
    const file = await SafetensorsFile.open(path);
    for (const key of file.keys()) add(key, { shape: file.info(key)!.shape, read: () => file.readFloat32(key) });
    close = () => file.close();
  } else {
    const file = await openTorchFile(path);
    try {
      for (const [key, t] of stateDictTensors(file.root)) add(key, { shape: [...t.shape], read: () => t.toFloat32() });
    } catch (err) {
      await file.close();
      throw err;
    }
    close = () => file.close();
  }
  return {
    path,
    keys: () => [...entries.keys()],
    shape: (key) => entries.get(key)?.shape,
    readFloat32: (key) => {
      const e = entries.get(key);
      if (!e) return Promise.reject(new LmError('lm_missing_weight', `${path}: no tensor "${key}"`));
      return e.read();
    },
    close,
  };
}

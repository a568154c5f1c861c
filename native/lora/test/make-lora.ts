// Test helper: small random kohya LoRA files for the sd1-tiny checkpoint (written to temp folders).
import { writeSafetensors, type TensorData } from '../../io/safetensors.js';

/** Deterministic uniform values in [-scale, scale). */
export function seededValues(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export interface RandomLoraModule {
  /** kohya module name, e.g. `lora_te_text_model_encoder_layers_0_mlp_fc1`. */
  name: string;
  /** Target weight shape [out, in] or [out, in, k, k]. */
  shape: number[];
}

/** Writes a LoRA with rank `rank` and alpha `alpha` for the given modules. */
export async function writeRandomLora(path: string, modules: RandomLoraModule[], opts: { seed: number; rank?: number; alpha?: number }): Promise<void> {
  const rank = opts.rank ?? 2;
  const tensors: Record<string, TensorData> = {};
  modules.forEach((m, i) => {
    const [out, inp, ...k] = m.shape;
    const downShape = [rank, inp, ...k];
    const upShape = k.length ? [out, rank, 1, 1] : [out, rank];
    const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
    tensors[`${m.name}.lora_down.weight`] = { dtype: 'F32', shape: downShape, data: seededValues(opts.seed * 1000 + 2 * i + 1, n(downShape), 0.5) };
    tensors[`${m.name}.lora_up.weight`] = { dtype: 'F32', shape: upShape, data: seededValues(opts.seed * 1000 + 2 * i + 2, n(upShape), 0.5) };
    tensors[`${m.name}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(opts.alpha ?? rank) };
  });
  await writeSafetensors(path, tensors, { ss_network_module: 'networks.lora' });
}

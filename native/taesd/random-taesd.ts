// A TAESD decoder file with seeded random weights and the real topology, in either layout (original
// `.safetensors` / `.pth`, or diffusers AutoencoderTiny with a dummy encoder tensor beside it), for
// tests and the preview benchmark. Real files come from madebyollin/taesd{,xl}.
import { writeSafetensors, type TensorData } from '../io/safetensors.js';
import { decoderTensorShapes } from './architecture.js';

export interface RandomTaesdOptions {
  /** Feature channels (64 in the real TAESD). */
  channels?: number;
  seed?: number;
}

/** Seeded tensors of the decoder under the original keys (He-like scale so activations stay O(1)). */
export function randomTaesdTensors(opts: RandomTaesdOptions = {}): Map<string, { shape: number[]; data: Float32Array }> {
  const channels = opts.channels ?? 64;
  let s = (opts.seed ?? 1) >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  };
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, shape] of decoderTensorShapes(channels, 4)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[1]! * 9 : 1;
    const scale = shape.length === 4 ? Math.sqrt(3 / fanIn) : 0.1;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rand() * scale;
    out.set(key, { shape, data });
  }
  return out;
}

/** The file key of an original-layout key in `layout`. */
export function taesdFileKey(key: string, layout: 'original' | 'diffusers'): string {
  if (layout === 'original') return key;
  const dot = key.indexOf('.');
  return `decoder.layers.${Number(key.slice(0, dot)) - 1}${key.slice(dot)}`;
}

/** Writes random decoder weights as .safetensors in `layout`. */
export async function writeRandomTaesd(path: string, layout: 'original' | 'diffusers', opts: RandomTaesdOptions = {}): Promise<void> {
  const t: Record<string, TensorData> = {};
  // The diffusers file holds the whole autoencoder; an encoder tensor checks that it is ignored.
  if (layout === 'diffusers') t['encoder.layers.0.weight'] = { dtype: 'F32', shape: [opts.channels ?? 64, 3, 3, 3], data: new Float32Array((opts.channels ?? 64) * 27) };
  for (const [key, v] of randomTaesdTensors(opts)) t[taesdFileKey(key, layout)] = { dtype: 'F32', shape: v.shape, data: v.data };
  await writeSafetensors(path, t);
}

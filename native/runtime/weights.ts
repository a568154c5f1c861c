// Fills a built graph's external data files from a checkpoint: each bound tensor is read as float32
// (one at a time), passed through an optional hook (LoRA merges, tests that perturb a weight),
// transposed if the graph asked for it, converted to the graph's dtype and copied to its offset.
// Peak memory is the files themselves plus one tensor.
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { f32ToF16 } from '../io/dtype.js';
import type { BuiltGraph, WeightBinding } from '../graph/builder.js';
import { winogradKernels } from '../graph/ops-winograd.js';
import { EngineError } from './engine-error.js';
import { reportWeightsRead } from './load-events.js';

/** What weights are read from; `Checkpoint` (native/models/checkpoint.ts) is one. */
export interface WeightSource {
  shape(key: string): readonly number[] | undefined;
  readFloat32(key: string): Promise<Float32Array>;
}

/**
 * Rewrites a tensor before it reaches the session (checkpoint layout, float32). Return the input
 * unchanged for keys it does not touch. Example (perturb one element):
 * `(key, w) => key === k ? w.map((v, i) => (i === 0 ? v + 0.01 : v)) : w`
 */
export type WeightHook = (key: string, data: Float32Array) => Float32Array | Promise<Float32Array>;

export interface ExternalFile {
  readonly path: string;
  readonly data: Uint8Array;
}

function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  // Blocked so that both reads and writes stay within cache lines for large [out, in] matrices.
  const block = 32;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[base + c];
      }
    }
  }
  return out;
}

/** The bytes one binding occupies in its external file (checkpoint tensor → graph layout and dtype). */
async function bindingBytes(b: WeightBinding, source: WeightSource, hook?: WeightHook): Promise<Uint8Array> {
  let data = await source.readFloat32(b.key);
  // a Winograd binding's graph shape [a², O, C] holds the transform of an [O, C, 3, 3] tensor
  const count = b.winograd ? b.shape[1] * b.shape[2] * 9 : b.shape.reduce((p, d) => p * d, 1);
  if (hook) data = await hook(b.key, data);
  if (data.length !== count) {
    throw new EngineError('weight_mismatch', `${b.key}: ${data.length} values for graph shape [${b.shape.join(',')}]${b.winograd ? ' (Winograd form)' : ''}`);
  }
  if (b.transpose) {
    // graph shape is [in, out]; the checkpoint's is [out, in]
    data = transpose2d(data, b.shape[1], b.shape[0]);
  }
  if (b.winograd) data = winogradKernels(data, b.shape[1], b.shape[2], b.winograd); // graph shape [a², O, C]
  switch (b.dtype) {
    case 'float32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'float16': {
      const half = f32ToF16(data);
      return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    }
    default:
      throw new EngineError('weight_mismatch', `${b.key}: weights of type ${b.dtype} are not supported`);
  }
}

/** The in-memory external data files of `graph`, filled from `source`. */
export async function materializeWeights(graph: BuiltGraph, source: WeightSource, hook?: WeightHook): Promise<ExternalFile[]> {
  const files = new Map<string, Uint8Array>();
  for (const f of graph.externalFiles) files.set(f.path, new Uint8Array(f.byteLength));
  let done = 0;
  for (const b of graph.weights) {
    if (!source.shape(b.key)) throw new EngineError('weight_missing', `checkpoint has no tensor ${b.key} (needed by ${graph.name})`);
    const file = files.get(b.file);
    if (!file) throw new EngineError('weight_mismatch', `${b.key}: unknown external file ${b.file}`);
    file.set(await bindingBytes(b, source, hook), b.offset);
    reportWeightsRead(++done, graph.weights.length);
  }
  return [...files].map(([path, data]) => ({ path, data }));
}

/**
 * Writes the graph (`model.onnx`) and its external data files into `dir`, one tensor at a time, so
 * ONNX Runtime can load the model by path. Unlike materializeWeights, the weights never sit in the
 * JS heap as a whole: for a full-size UNet this removes one 3.4 GB copy from the load peak.
 */
export async function stageWeightsOnDisk(graph: BuiltGraph, source: WeightSource, dir: string, hook?: WeightHook): Promise<string> {
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, graph.model);
  const handles = new Map<string, FileHandle>();
  try {
    for (const f of graph.externalFiles) {
      const h = await open(join(dir, f.path), 'w');
      handles.set(f.path, h);
      await h.truncate(f.byteLength);
    }
    let done = 0;
    for (const b of graph.weights) {
      if (!source.shape(b.key)) throw new EngineError('weight_missing', `checkpoint has no tensor ${b.key} (needed by ${graph.name})`);
      const h = handles.get(b.file);
      if (!h) throw new EngineError('weight_mismatch', `${b.key}: unknown external file ${b.file}`);
      const bytes = await bindingBytes(b, source, hook);
      await h.write(bytes, 0, bytes.byteLength, b.offset);
      reportWeightsRead(++done, graph.weights.length);
    }
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
  return modelPath;
}

/** A WeightSource over tensors already in memory (scripts, tests, synthetic weights). */
export function memoryWeightSource(tensors: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>): WeightSource {
  return {
    shape: (key) => tensors[key]?.shape,
    readFloat32: async (key) => {
      const t = tensors[key];
      if (!t) throw new EngineError('weight_missing', `no tensor ${key}`);
      return t.data.slice();
    },
  };
}

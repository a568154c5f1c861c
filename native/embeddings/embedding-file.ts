// Textual-inversion embedding files, read as A1111's `create_embedding_from_data` reads them:
// A1111-trained files keep one tensor under `string_to_param` ('*'), diffusers concept files and
// most .safetensors embeddings hold a single tensor (`emb_params`, or the token as the key). The
// result is [vectors, dim] float32. SDXL files (`clip_l` + `clip_g`) give both parts: `vectors` for
// CLIP-L and `clipG` for OpenCLIP (A1111's sd_hijack for SDXL splices each into its own encoder). `.pt` / `.bin` files go through the restricted pickle reader (native/io/torch-file.ts).
import { basename, extname } from 'node:path';
import { SafetensorsFile } from '../io/safetensors.js';
import { isTorchTensor, openTorchFile } from '../io/torch-file.js';
import { NetworkError } from '../lora/lora-error.js';

export interface EmbeddingData {
  /** [vectors, dim], row-major (SDXL files: the `clip_l` part). */
  vectors: Float32Array;
  count: number;
  dim: number;
  /** SDXL files: the `clip_g` part [vectors, dimG] for the OpenCLIP encoder. */
  clipG?: { vectors: Float32Array; dim: number };
}

function sdxlData(where: string, l: { shape: readonly number[]; data: Float32Array }, g: { shape: readonly number[]; data: Float32Array }): EmbeddingData {
  const a = fromTensor(where, l.shape, l.data);
  const b = fromTensor(where, g.shape, g.data);
  if (a.count !== b.count) throw new NetworkError('bad_embedding_file', `${where}: clip_l has ${a.count} vectors but clip_g ${b.count}`);
  return { ...a, clipG: { vectors: b.vectors, dim: b.dim } };
}

export const EMBEDDING_EXTENSIONS = ['.safetensors', '.pt', '.bin'] as const;

function fromTensor(where: string, shape: readonly number[], data: Float32Array): EmbeddingData {
  if (shape.length === 1) return { vectors: data, count: 1, dim: shape[0] };
  if (shape.length === 2 && shape[0] > 0) return { vectors: data, count: shape[0], dim: shape[1] };
  throw new NetworkError('bad_embedding_file', `${where}: embedding tensor of shape [${shape.join(', ')}] (expected [vectors, dim])`);
}

async function readSafetensorsEmbedding(path: string): Promise<EmbeddingData> {
  const where = basename(path);
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch (err) {
    throw new NetworkError('bad_embedding_file', `${where}: ${(err as Error).message}`);
  }
  try {
    const keys = file.keys();
    if (keys.includes('clip_l') && keys.includes('clip_g')) {
      const read = async (k: string) => ({ shape: file.info(k)!.shape, data: await file.readFloat32(k) });
      return sdxlData(where, await read('clip_l'), await read('clip_g'));
    }
    const key = keys.find((k) => k === 'emb_params') ?? keys.find((k) => k.startsWith('string_to_param.')) ?? (keys.length === 1 ? keys[0] : undefined);
    if (!key) throw new NetworkError('bad_embedding_file', `${where}: embedding file has ${keys.length} tensors and none is emb_params / string_to_param`);
    return fromTensor(where, file.info(key)!.shape, await file.readFloat32(key));
  } finally {
    await file.close();
  }
}

function mapGet(v: unknown, key: string): unknown {
  return v instanceof Map ? (v as Map<unknown, unknown>).get(key) : undefined;
}

async function readPickleEmbedding(path: string): Promise<EmbeddingData> {
  const where = basename(path);
  const file = await openTorchFile(path);
  try {
    const root = file.root;
    let params = mapGet(root, 'string_to_param');
    // torch 1.11 files saved the ParameterDict itself: its tensors sit under `_parameters`.
    if (params && !(params instanceof Map) && typeof params === 'object' && 'state' in params) params = mapGet((params as { state?: unknown }).state, '_parameters') ?? params;
    if (params instanceof Map) {
      if (params.size !== 1) throw new NetworkError('bad_embedding_file', `${where}: embedding file has multiple terms in it`);
      const t = [...params.values()][0];
      if (!isTorchTensor(t)) throw new NetworkError('bad_embedding_file', `${where}: string_to_param holds no tensor`);
      return fromTensor(where, t.shape, await t.toFloat32());
    }
    if (root instanceof Map && root.has('clip_l') && root.has('clip_g')) {
      const [l, g] = [root.get('clip_l'), root.get('clip_g')];
      if (!isTorchTensor(l) || !isTorchTensor(g)) throw new NetworkError('bad_embedding_file', `${where}: clip_l / clip_g are not tensors`);
      return sdxlData(where, { shape: l.shape, data: await l.toFloat32() }, { shape: g.shape, data: await g.toFloat32() });
    }
    if (root instanceof Map && root.size === 1) {
      const t = [...root.values()][0];
      if (isTorchTensor(t)) return fromTensor(where, t.shape, await t.toFloat32());
    }
    throw new NetworkError('bad_embedding_file', `${where}: not a textual-inversion embedding`);
  } finally {
    await file.close();
  }
}

/**
 * Reads one embedding file.
 *
 * @example const e = await readEmbeddingFile('models/embeddings/easynegative.safetensors') // { count: 8, dim: 768, ... }
 */
export async function readEmbeddingFile(path: string): Promise<EmbeddingData> {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return readSafetensorsEmbedding(path);
  if (ext === '.pt' || ext === '.bin') return readPickleEmbedding(path);
  throw new NetworkError('unsupported_format', `${basename(path)}: unknown embedding file type`);
}

// The public reader for PyTorch files (.ckpt / .pt / .pth / .bin): opens the zip that
// `torch.save` writes since torch 1.6 — `<name>/data.pkl` (the object graph, pickle protocol 2),
// `<name>/data/<key>` (one raw little-endian entry per storage), `<name>/version`,
// `<name>/byteorder` — runs the pickle through the restricted interpreter with the torch
// allow-list, and hands back the object graph with lazily-read tensors. The older formats
// (a tar, or a bare sequence of pickles before torch 1.6) are refused with `unsupported_format`
// without being interpreted.
import { open } from 'node:fs/promises';
import { DTYPE_SIZES } from './dtype.js';
import { PickleError, unpickle, looksLikePickle, type PickleGlobalHandler, type PickleValue, type TorchTensor } from './pickle-vm.js';
import { storageDTypeOf, torchGlobals } from './torch-globals.js';
import { TorchFileError, TorchStorage, isTorchTensor } from './torch-tensor.js';
import { ZipArchive, looksLikeZip } from './zip-reader.js';

export type { PickleKey, PickleValue, TorchTensor } from './pickle-vm.js';
export { PickleError } from './pickle-vm.js';
export { TorchFileError, isTorchTensor, tensorBytes } from './torch-tensor.js';
export { ZipError } from './zip-reader.js';

export interface TorchFile {
  readonly root: PickleValue;
  close(): Promise<void>;
}

/** data.pkl of a full SD checkpoint is ~150 KB; the cap bounds the memory a hostile pickle can make the machine allocate. */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;
const HEAD_BYTES = 512;
const TAR_MAGIC_OFFSET = 257;
const DATA_PKL = /^([^/]+)\/data\.pkl$/;

/**
 * Opens a torch file. Example:
 * `const f = await openTorchFile('emb.pt'); const vec = stateDictTensors(f.root)...; await f.close();`
 * Errors (all with `code`): `unsafe_pickle` when the pickle names any global outside the
 * allow-list (nothing of the file is used then), `unsupported_format` for non-zip / legacy /
 * big-endian files, `bad_pickle`, `bad_tensor`, `bad_archive`, and the ZipError codes.
 * `opts.globals` replaces the default torch allow-list (detector files use a narrower one).
 */
export async function openTorchFile(path: string, opts: { globals?: ReadonlyMap<string, PickleGlobalHandler> } = {}): Promise<TorchFile> {
  await checkContainer(path);
  const zip = await ZipArchive.open(path);
  try {
    const pickles = zip.entries().filter((e) => DATA_PKL.test(e.name));
    if (pickles.length !== 1) {
      throw new TorchFileError('unsupported_format', `${path}: a torch zip has exactly one <name>/data.pkl, found ${pickles.length}`);
    }
    const prefix = DATA_PKL.exec(pickles[0].name)![1];
    const byteorder = zip.entry(`${prefix}/byteorder`);
    if (byteorder) {
      const order = new TextDecoder().decode(await zip.readEntry(byteorder.name, 16)).trim();
      if (order !== 'little') throw new TorchFileError('unsupported_format', `${path}: byte order "${order}" is not supported (only little-endian)`);
    }
    const pkl = await zip.readEntry(pickles[0].name, MAX_PICKLE_BYTES);
    const persistentLoad = (pid: PickleValue): PickleValue => loadStorage(zip, prefix, pid, path);
    let root: PickleValue;
    try {
      root = unpickle(pkl, { globals: opts.globals ?? torchGlobals(), persistentLoad }).value;
    } catch (err) {
      if (err instanceof PickleError || err instanceof TorchFileError) err.message = `${path}: ${err.message}`;
      throw err;
    }
    return { root, close: () => zip.close() };
  } catch (err) {
    await zip.close();
    throw err;
  }
}

/**
 * The flat key → tensor map of a state dict, for checkpoints, VAEs and embeddings: a top-level
 * `state_dict` dict is unwrapped (Lightning checkpoints); entries that are not tensors (`global_step`,
 * nested dicts) are skipped. Example: `stateDictTensors(f.root).get('first_stage_model.decoder.conv_in.weight')`.
 */
export function stateDictTensors(root: PickleValue): Map<string, TorchTensor> {
  let dict = root;
  if (dict instanceof Map) {
    const inner = dict.get('state_dict');
    if (inner instanceof Map) dict = inner;
  }
  const out = new Map<string, TorchTensor>();
  if (!(dict instanceof Map)) return out;
  for (const [k, v] of dict) {
    if (typeof k === 'string' && isTorchTensor(v)) out.set(k, v);
  }
  return out;
}

// The persistent id of a storage: ('storage', <storage class>, key, location, numel).
function loadStorage(zip: ZipArchive, prefix: string, pid: PickleValue, path: string): PickleValue {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') {
    throw new TorchFileError('bad_storage', `${path}: persistent id is not ('storage', class, key, location, numel)`);
  }
  const [, cls, key, , numel] = pid;
  const dtype = storageDTypeOf(cls);
  if (!dtype) throw new TorchFileError('bad_storage', `${path}: persistent id names no storage class`);
  if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    throw new TorchFileError('bad_storage', `${path}: storage key must be a string and numel a non-negative integer`);
  }
  const name = `${prefix}/data/${key}`;
  const entry = zip.entry(name);
  if (!entry) throw new TorchFileError('bad_storage', `${path}: storage "${key}" has no entry ${name}`);
  const bytes = numel * DTYPE_SIZES[dtype];
  if (entry.size < bytes) {
    throw new TorchFileError('bad_storage', `${path}: storage "${key}" needs ${numel} × ${dtype} = ${bytes} bytes, entry ${name} has ${entry.size}`);
  }
  return new TorchStorage((cls as { $class: string }).$class, dtype, key, numel, (offset, length) => zip.readRange(name, offset, length));
}

async function checkContainer(path: string): Promise<void> {
  let head: Uint8Array;
  try {
    const h = await open(path, 'r');
    try {
      const buf = new Uint8Array(HEAD_BYTES);
      const { bytesRead } = await h.read(buf, 0, HEAD_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  } catch (err) {
    throw new TorchFileError('unsupported_format', `cannot open ${path}: ${(err as Error).message}`);
  }
  if (looksLikeZip(head)) return;
  if (looksLikePickle(head)) {
    throw new TorchFileError(
      'unsupported_format',
      `${path}: legacy torch serialization (torch < 1.6, a bare pickle stream) is not supported; re-save it with a current torch or convert it to .safetensors`,
    );
  }
  if (head.length >= TAR_MAGIC_OFFSET + 5 && new TextDecoder().decode(head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5)) === 'ustar') {
    throw new TorchFileError('unsupported_format', `${path}: tar-based torch serialization (torch < 0.4) is not supported`);
  }
  throw new TorchFileError('unsupported_format', `${path}: not a torch file (expected a zip archive written by torch.save)`);
}

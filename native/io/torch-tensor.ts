// Storages and tensors of a torch file. A storage is a raw byte entry of the archive
// (`<name>/data/<key>`); a tensor is a strided view of one (`_rebuild_tensor_v2(storage,
// storage_offset, size, stride, ...)`), so several tensors may share a storage at different
// offsets, and a view may be non-contiguous (a transpose, an `expand` with stride 0). Tensors are
// validated against their storage when the pickle builds them and read only when asked, as
// row-major bytes (non-contiguous views are gathered into a fresh buffer).
import { bytesToFloat32 } from './safetensors.js';
import { DTYPE_SIZES, type DType } from './dtype.js';
import type { TorchTensor } from './pickle-vm.js';

export type TorchFileErrorCode = 'unsupported_format' | 'bad_archive' | 'bad_tensor' | 'bad_storage';

export class TorchFileError extends Error {
  override readonly name = 'TorchFileError';
  constructor(
    readonly code: TorchFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Reads `byteLength` bytes at `byteOffset` of a storage into a fresh buffer. */
export type StorageReader = (byteOffset: number, byteLength: number) => Promise<Uint8Array>;

/** A storage as the pickle's persistent id describes it; `$class` keeps it printable. */
export class TorchStorage {
  constructor(
    readonly $class: string,
    readonly dtype: DType,
    readonly key: string,
    /** Elements of `dtype`. */
    readonly numel: number,
    readonly read: StorageReader,
  ) {}
}

class TorchTensorImpl implements TorchTensor {
  readonly numel: number;
  readonly contiguous: boolean;

  constructor(
    readonly storage: TorchStorage,
    readonly dtype: DType,
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {
    this.numel = shape.reduce((a, d) => a * d, 1);
    this.contiguous = isContiguous(shape, stride);
  }

  /** Row-major little-endian bytes of the tensor, in a fresh (so aligned) buffer. */
  async readBytes(): Promise<Uint8Array> {
    const item = DTYPE_SIZES[this.dtype];
    if (this.numel === 0) return new Uint8Array(0);
    if (this.contiguous) return this.storage.read(this.storageOffset * item, this.numel * item);
    // Strides are never negative in torch, so the view spans [offset, offset + Σ (size-1)·stride].
    const span = 1 + this.shape.reduce((a, d, i) => a + (d - 1) * this.stride[i], 0);
    const src = await this.storage.read(this.storageOffset * item, span * item);
    return gather(src, this.shape, this.stride, item);
  }

  async toFloat32(): Promise<Float32Array> {
    return bytesToFloat32(await this.readBytes(), this.dtype);
  }
}

/** Whether a value is a tensor from a torch file (and not, say, a placeholder object). */
export function isTorchTensor(v: unknown): v is TorchTensor {
  return v instanceof TorchTensorImpl;
}

/** The raw row-major bytes of a tensor from a torch file (for callers that keep F16 as F16). */
export function tensorBytes(t: TorchTensor): Promise<Uint8Array> {
  if (!(t instanceof TorchTensorImpl)) return Promise.reject(new TorchFileError('bad_tensor', 'not a tensor from a torch file'));
  return t.readBytes();
}

/**
 * `torch._utils._rebuild_tensor_v2` minus autograd: checks every number against the storage so
 * a hostile file cannot point a read outside its own entry. `dtype` differs from the storage's
 * only for `_rebuild_tensor_v3` (an untyped storage viewed as a dtype).
 */
export function rebuildTensor(storage: unknown, storageOffset: unknown, size: unknown, stride: unknown, dtype?: DType): TorchTensor {
  if (!(storage instanceof TorchStorage)) throw new TorchFileError('bad_tensor', `tensor rebuild needs a storage, got ${typeName(storage)}`);
  const shape = intList(size, 'size');
  const strides = intList(stride, 'stride');
  if (shape.length !== strides.length) throw new TorchFileError('bad_tensor', `tensor size ${fmt(shape)} and stride ${fmt(strides)} differ in rank`);
  if (typeof storageOffset !== 'number' || !Number.isSafeInteger(storageOffset) || storageOffset < 0) {
    throw new TorchFileError('bad_tensor', `tensor storage offset must be a non-negative integer, got ${String(storageOffset)}`);
  }
  const viewDType = dtype ?? storage.dtype;
  const storageBytes = storage.numel * DTYPE_SIZES[storage.dtype];
  const item = DTYPE_SIZES[viewDType];
  const numel = shape.reduce((a, d) => a * d, 1);
  if (!Number.isSafeInteger(numel)) throw new TorchFileError('bad_tensor', `tensor size ${fmt(shape)} is too large`);
  if (numel > 0) {
    const last = storageOffset + shape.reduce((a, d, i) => a + (d - 1) * strides[i], 0);
    if ((last + 1) * item > storageBytes) {
      throw new TorchFileError(
        'bad_tensor',
        `tensor ${viewDType}${fmt(shape)} with stride ${fmt(strides)} at offset ${storageOffset} reads past storage "${storage.key}" of ${storage.numel} ${storage.dtype} elements`,
      );
    }
  }
  return new TorchTensorImpl(storage, viewDType, storageOffset, shape, strides);
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    // a dimension of size 1 may carry any stride (torch leaves whatever the source had)
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

// Copies a strided view into row-major order; runs along a stride-1 last dimension are copied whole.
function gather(src: Uint8Array, shape: readonly number[], stride: readonly number[], item: number): Uint8Array {
  const rank = shape.length;
  const numel = shape.reduce((a, d) => a * d, 1);
  const out = new Uint8Array(numel * item);
  const lastSize = shape[rank - 1];
  const lastStride = stride[rank - 1];
  const rows = numel / lastSize;
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  let base = 0; // element offset in src of the current row's first element
  let o = 0;
  for (let r = 0; r < rows; r++) {
    if (lastStride === 1) {
      out.set(src.subarray(base * item, (base + lastSize) * item), o);
      o += lastSize * item;
    } else {
      for (let j = 0; j < lastSize; j++) {
        const s = (base + j * lastStride) * item;
        out.set(src.subarray(s, s + item), o);
        o += item;
      }
    }
    // odometer over the leading dimensions
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < shape[d]) break;
      base -= idx[d] * stride[d];
      idx[d] = 0;
    }
  }
  return out;
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new TorchFileError('bad_tensor', `tensor ${what} must be a tuple of non-negative integers, got ${typeName(v)}`);
  }
  return v as number[];
}

function fmt(xs: readonly number[]): string {
  return `[${xs.join(', ')}]`;
}

function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'number' ? String(x) : typeof x)).join(', ')}]`;
  if (typeof v === 'object' && '$class' in v) return `'${String((v as { $class: unknown }).$class)}'`;
  return typeof v;
}

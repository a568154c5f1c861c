// The .safetensors format: header validation, positional tensor reads and a streaming writer.
//
// Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
// N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {..} }`,
// then the data; offsets are relative to the start of the data. Files reach several GB, so
// tensors are read one at a time through a file handle with numeric positions (exact up to
// 2^53) and the file is never held in memory. Typed arrays are host-endian: Easel assumes a
// little-endian host, like every platform onnxruntime-node ships for.
import { open, type FileHandle } from 'node:fs/promises';
import { DTYPE_SIZES, bf16ToF32, f16ToF32, isDType, type DType } from './dtype.js';

export type { DType } from './dtype.js';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offsets in the file: [begin, end). */
  begin: number;
  end: number;
}

export type SafetensorsErrorCode =
  | 'not_found'
  | 'bad_header_length'
  | 'bad_header_json'
  | 'bad_tensor_entry'
  | 'bad_metadata'
  | 'unknown_dtype'
  | 'bad_offsets'
  | 'overlapping_tensors'
  | 'shape_mismatch'
  | 'unknown_tensor'
  | 'short_read'
  | 'closed';

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  constructor(
    readonly code: SafetensorsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The reference implementation refuses headers above 100 MB; so do we (a real SDXL header is ~200 KB). */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
// Reads larger than this are split: a single `read()` may return fewer bytes, and Node caps one call near 2 GiB.
const READ_CHUNK_BYTES = 1 << 30;

export interface ParsedHeader {
  /** Byte offset in the file where tensor data starts (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/**
 * Validates a header and turns it into absolute tensor ranges. `fileSize` is the size of the
 * whole file; `headerBytes` the N bytes after the length prefix.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, where = 'safetensors file'): ParsedHeader {
  const dataStart = 8 + headerBytes.length;
  const dataLength = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new SafetensorsError('bad_header_json', `${where}: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError('bad_header_json', `${where}: header must be a JSON object, got ${Array.isArray(json) ? 'array' : typeof json}`);
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError('bad_metadata', `${where}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError('bad_metadata', `${where}: __metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, parseEntry(name, entry, dataStart, dataLength, where));
  }
  checkOverlaps([...tensors.values()], where);
  return { dataStart, tensors, metadata };
}

function parseEntry(name: string, entry: unknown, dataStart: number, dataLength: number, where: string): TensorInfo {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new SafetensorsError('bad_tensor_entry', `${where}: entry "${name}" must be an object`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isDType(dtype)) throw new SafetensorsError('unknown_dtype', `${where}: tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError('bad_tensor_entry', `${where}: tensor "${name}" shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw new SafetensorsError('bad_offsets', `${where}: tensor "${name}" data_offsets must be [begin, end] integers, got ${JSON.stringify(offsets)}`);
  }
  const [b, e] = offsets as [number, number];
  if (b > e || e > dataLength) {
    throw new SafetensorsError('bad_offsets', `${where}: tensor "${name}" data_offsets [${b}, ${e}] outside the data section of ${dataLength} bytes`);
  }
  const expected = (shape as number[]).reduce((a, d) => a * d, 1) * DTYPE_SIZES[dtype];
  if (expected !== e - b) {
    throw new SafetensorsError('shape_mismatch', `${where}: tensor "${name}" ${dtype}${JSON.stringify(shape)} needs ${expected} bytes, data_offsets give ${e - b}`);
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e };
}

function checkOverlaps(infos: TensorInfo[], where: string): void {
  const ranges = infos.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) {
      throw new SafetensorsError('overlapping_tensors', `${where}: tensors "${ranges[i - 1].name}" and "${ranges[i].name}" overlap`);
    }
  }
}

/**
 * An open .safetensors file. Example:
 * `const f = await SafetensorsFile.open(p); const w = await f.readFloat32('first_stage_model.decoder.conv_in.weight'); await f.close();`
 */
export class SafetensorsFile {
  private handle: FileHandle | undefined;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    readonly size: number,
    readonly dataStart: number,
    private readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {
    this.handle = handle;
  }

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new SafetensorsError('not_found', `cannot open ${path}: ${(err as Error).message}`);
    }
    try {
      const size = (await handle.stat()).size;
      if (size < 8) throw new SafetensorsError('bad_header_length', `${path}: file of ${size} bytes is too short for a header`);
      const prefix = await readExact(handle, 0, 8, path);
      const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
      if (n === 0n || n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
        throw new SafetensorsError('bad_header_length', `${path}: header length ${n} does not fit (file is ${size} bytes, limit ${MAX_HEADER_BYTES})`);
      }
      const headerBytes = await readExact(handle, 8, Number(n), path);
      const parsed = parseHeader(headerBytes, size, path);
      return new SafetensorsFile(path, handle, size, parsed.dataStart, parsed.tensors, parsed.metadata);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Tensor names in header order. */
  keys(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo | undefined {
    return this.tensors.get(name);
  }

  /** The tensor's raw little-endian bytes, in a fresh (so aligned) buffer. */
  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.require(name);
    return readExact(this.requireHandle(), info.begin, info.end - info.begin, this.path);
  }

  /** The tensor as float32; F16, BF16, F64 and integer dtypes are converted (I64 via Number). */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.require(name);
    const bytes = await this.readBytes(name);
    return bytesToFloat32(bytes, info.dtype);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private require(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError('unknown_tensor', `${this.path}: no tensor named "${name}"`);
    return info;
  }

  private requireHandle(): FileHandle {
    if (!this.handle) throw new SafetensorsError('closed', `${this.path}: file is closed`);
    return this.handle;
  }
}

/** Reinterprets raw tensor bytes (fresh, aligned buffer) as float32. */
export function bytesToFloat32(bytes: Uint8Array, dtype: DType): Float32Array {
  const n = bytes.byteLength / DTYPE_SIZES[dtype];
  const buf = bytes.buffer;
  const off = bytes.byteOffset;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, off, n);
    case 'F16':
      return f16ToF32(new Uint16Array(buf, off, n));
    case 'BF16':
      return bf16ToF32(new Uint16Array(buf, off, n));
    case 'F64':
      return Float32Array.from(new Float64Array(buf, off, n));
    case 'I64': {
      const src = new BigInt64Array(buf, off, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(buf, off, n));
    case 'I16':
      return Float32Array.from(new Int16Array(buf, off, n));
    case 'I8':
      return Float32Array.from(new Int8Array(buf, off, n));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(buf, off, n));
  }
}

async function readExact(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const want = Math.min(READ_CHUNK_BYTES, length - done);
    const { bytesRead } = await handle.read(out, done, want, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError('short_read', `${path}: file ended at byte ${position + done}, expected ${length - done} more bytes`);
    }
    done += bytesRead;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface TensorData {
  dtype: DType;
  shape: number[];
  data: ArrayBufferView;
}

/**
 * Builds the header bytes (length prefix + JSON padded with spaces to a multiple of 8, so the
 * data section starts 8-byte aligned) and the data-relative offsets of each tensor, in order.
 */
export function encodeHeader(specs: TensorSpec[], metadata?: Record<string, string>): { bytes: Uint8Array; dataLength: number } {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const s of specs) {
    if (s.name === METADATA_KEY || seen.has(s.name)) {
      throw new SafetensorsError('bad_tensor_entry', `cannot write tensor named "${s.name}" (reserved or duplicate)`);
    }
    seen.add(s.name);
    const bytes = s.shape.reduce((a, d) => a * d, 1) * DTYPE_SIZES[s.dtype];
    header[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return { bytes, dataLength: offset };
}

/**
 * Writes tensors one at a time: `produce` is called in order and its result is written before
 * the next one is asked for, so a multi-GB checkpoint needs memory for one tensor only.
 */
export async function writeSafetensorsStreamed(
  path: string,
  specs: TensorSpec[],
  produce: (spec: TensorSpec, index: number) => ArrayBufferView | Promise<ArrayBufferView>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { bytes } = encodeHeader(specs, metadata);
  const handle = await open(path, 'w');
  try {
    let position = 0;
    await writeAll(handle, bytes, position);
    position += bytes.length;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i];
      const data = await produce(s, i);
      const expected = s.shape.reduce((a, d) => a * d, 1) * DTYPE_SIZES[s.dtype];
      if (data.byteLength !== expected) {
        throw new SafetensorsError('shape_mismatch', `tensor "${s.name}" ${s.dtype}${JSON.stringify(s.shape)} needs ${expected} bytes, got ${data.byteLength}`);
      }
      await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
      position += expected;
    }
  } finally {
    await handle.close();
  }
}

/** Writes a whole set of in-memory tensors (insertion order). For scripts and tests. */
export async function writeSafetensors(path: string, tensors: Record<string, TensorData>, metadata?: Record<string, string>): Promise<void> {
  const entries = Object.entries(tensors);
  const specs = entries.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  await writeSafetensorsStreamed(path, specs, (_s, i) => entries[i][1].data, metadata);
}

async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, Math.min(READ_CHUNK_BYTES, data.length - done), position + done);
    done += bytesWritten;
  }
}

// A read-only zip reader for PyTorch archives (`torch.save` since torch 1.6 writes a zip of a
// pickle plus one raw entry per storage). Owns: finding the end-of-central-directory record
// (ZIP64 included), parsing and bounding the central directory, validating entry names, and
// reading entries either whole (small ones: the pickle) or by byte range (storages), so that a
// 4 GB .ckpt is never held in memory. Stored entries are read with positional reads; deflated
// entries are inflated as a stream and only the wanted range is kept.
//
// Format: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (sections 4.3.7, 4.3.12,
// 4.3.14-4.3.16, 4.5.3). Multi-disk archives and encryption are refused.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInflateRaw, crc32 } from 'node:zlib';

export type ZipErrorCode =
  | 'not_found'
  | 'not_zip'
  | 'bad_zip'
  | 'unsupported_zip'
  | 'bad_entry_name'
  | 'too_large'
  | 'unknown_entry'
  | 'crc_mismatch'
  | 'short_read'
  | 'closed';

export class ZipError extends Error {
  override readonly name = 'ZipError';
  constructor(
    readonly code: ZipErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  /** Uncompressed size in bytes. */
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

export interface ZipLimits {
  /** Largest central directory accepted (bytes). */
  maxCentralDirectoryBytes?: number;
  /** Largest number of entries accepted. */
  maxEntries?: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_MIN_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
// A real SD checkpoint has ~1200 entries and a central directory of ~150 KB.
const DEFAULT_MAX_CD_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 1_000_000;
const READ_CHUNK_BYTES = 1 << 30;

/**
 * An open zip archive. Example:
 * `const zip = await ZipArchive.open(p); const pkl = await zip.readEntry('archive/data.pkl', 1 << 28); await zip.close();`
 */
export class ZipArchive {
  private handle: FileHandle | undefined;
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    readonly path: string,
    handle: FileHandle,
    readonly size: number,
    private readonly byName: Map<string, ZipEntry>,
    private readonly nameLengths: Map<string, number>,
  ) {
    this.handle = handle;
  }

  static async open(path: string, limits: ZipLimits = {}): Promise<ZipArchive> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new ZipError('not_found', `cannot open ${path}: ${(err as Error).message}`);
    }
    try {
      const size = (await handle.stat()).size;
      const { entries, nameLengths } = await readCentralDirectory(handle, size, path, limits);
      return new ZipArchive(path, handle, size, entries, nameLengths);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Entries in central-directory order. */
  entries(): ZipEntry[] {
    return [...this.byName.values()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The whole entry, inflated and CRC-checked; refused with `too_large` above `maxBytes`. */
  async readEntry(name: string, maxBytes: number): Promise<Uint8Array> {
    const entry = this.require(name);
    if (entry.size > maxBytes) {
      throw new ZipError('too_large', `${this.path}: entry "${name}" is ${entry.size} bytes, the limit is ${maxBytes}`);
    }
    const bytes = await this.readRange(name, 0, entry.size);
    const actual = crc32(bytes) >>> 0;
    if (actual !== entry.crc32) {
      throw new ZipError('crc_mismatch', `${this.path}: entry "${name}" has CRC-32 ${hex(actual)}, the directory says ${hex(entry.crc32)}`);
    }
    return bytes;
  }

  /**
   * `length` uncompressed bytes of an entry starting at `offset`, in a fresh (so aligned) buffer.
   * Stored entries cost one positional read; deflated ones inflate from the start of the entry.
   * No CRC check (it needs the whole entry); `readEntry` does one.
   */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const entry = this.require(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > entry.size) {
      throw new ZipError('bad_zip', `${this.path}: range [${offset}, ${offset + length}) is outside entry "${name}" of ${entry.size} bytes`);
    }
    const dataStart = await this.dataOffset(entry);
    if (length === 0) return new Uint8Array(0);
    if (entry.method === METHOD_STORED) return readExact(this.requireHandle(), dataStart + offset, length, this.path);
    return inflateRange(this.path, entry, dataStart, offset, length);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private require(name: string): ZipEntry {
    const entry = this.byName.get(name);
    if (!entry) throw new ZipError('unknown_entry', `${this.path}: no entry named "${name}"`);
    return entry;
  }

  private requireHandle(): FileHandle {
    if (!this.handle) throw new ZipError('closed', `${this.path}: archive is closed`);
    return this.handle;
  }

  // The local header's extra field may differ from the central one (torch pads it so that data
  // starts 64-byte aligned), so the data offset is only known after reading the local header.
  private async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    const at = entry.localHeaderOffset;
    if (at + LOCAL_HEADER_SIZE > this.size) throw new ZipError('bad_zip', `${this.path}: local header of "${entry.name}" lies past the end of the file`);
    // one read for the header and (if it matches the central one) the name
    const expectNameLen = this.nameLengths.get(entry.name) ?? 0;
    const head = await readExact(this.requireHandle(), at, Math.min(LOCAL_HEADER_SIZE + expectNameLen, this.size - at), this.path);
    const v = view(head);
    if (v.getUint32(0, true) !== SIG_LOCAL) throw new ZipError('bad_zip', `${this.path}: no local header signature at byte ${at} for "${entry.name}"`);
    const nameLen = v.getUint16(26, true);
    const extraLen = v.getUint16(28, true);
    const nameBytes = nameLen === expectNameLen ? head.subarray(LOCAL_HEADER_SIZE) : await readExact(this.requireHandle(), at + LOCAL_HEADER_SIZE, nameLen, this.path);
    if (decodeName(nameBytes, (v.getUint16(6, true) & FLAG_UTF8) !== 0) !== entry.name) {
      throw new ZipError('bad_zip', `${this.path}: local header name differs from the central directory for "${entry.name}"`);
    }
    const start = at + LOCAL_HEADER_SIZE + nameLen + extraLen;
    if (start + entry.compressedSize > this.size) {
      throw new ZipError('bad_zip', `${this.path}: data of "${entry.name}" (${entry.compressedSize} bytes at ${start}) runs past the end of the file (${this.size})`);
    }
    this.dataOffsets.set(entry.name, start);
    return start;
  }
}

/** Whether the first bytes look like a zip local header or an empty archive. */
export function looksLikeZip(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const sig = view(head).getUint32(0, true);
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

/**
 * Entry names are data, not paths, but callers may map them to files one day: refuse anything
 * that could escape a folder or confuse a lookup.
 */
export function checkEntryName(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('\0')) return 'contains NUL';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is absolute';
  if (name.split('/').some((part) => part === '..')) return 'contains ".."';
  return undefined;
}

interface CentralDirectory {
  entries: Map<string, ZipEntry>;
  /** Encoded name lengths, so the local header and name can be read in one go. */
  nameLengths: Map<string, number>;
}

async function readCentralDirectory(handle: FileHandle, size: number, path: string, limits: ZipLimits): Promise<CentralDirectory> {
  if (size < EOCD_SIZE) throw new ZipError('not_zip', `${path}: file of ${size} bytes is too short for a zip archive`);
  const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = size - tailLen;
  const tail = await readExact(handle, tailStart, tailLen, path);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    // the comment length must reach exactly to the end of the file, which rejects stray signatures inside comments
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not_zip', `${path}: no end-of-central-directory record (not a zip archive, or truncated)`);
  const diskNo = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  let count: number = tv.getUint16(eocd + 10, true);
  let cdSize: number = tv.getUint32(eocd + 12, true);
  let cdOffset: number = tv.getUint32(eocd + 16, true);
  const eocdAbs = tailStart + eocd;
  let cdEnd = eocdAbs;
  const needs64 = count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX;
  const loc = eocd - ZIP64_LOCATOR_SIZE;
  if (loc >= 0 && tv.getUint32(loc, true) === SIG_ZIP64_LOCATOR) {
    const recAt = toSafe(tv.getBigUint64(loc + 8, true), path, 'ZIP64 end record offset');
    if (recAt + ZIP64_EOCD_MIN_SIZE > eocdAbs - ZIP64_LOCATOR_SIZE) throw new ZipError('bad_zip', `${path}: ZIP64 end record offset ${recAt} is out of range`);
    const rec = await readExact(handle, recAt, ZIP64_EOCD_MIN_SIZE, path);
    const rv = view(rec);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new ZipError('bad_zip', `${path}: no ZIP64 end record signature at byte ${recAt}`);
    if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) throw new ZipError('unsupported_zip', `${path}: multi-disk zip archives are not supported`);
    count = toSafe(rv.getBigUint64(32, true), path, 'entry count');
    cdSize = toSafe(rv.getBigUint64(40, true), path, 'central directory size');
    cdOffset = toSafe(rv.getBigUint64(48, true), path, 'central directory offset');
    cdEnd = recAt;
  } else if (needs64) {
    throw new ZipError('bad_zip', `${path}: end record has ZIP64 markers but no ZIP64 locator`);
  } else if (diskNo !== 0 || cdDisk !== 0) {
    throw new ZipError('unsupported_zip', `${path}: multi-disk zip archives are not supported`);
  }
  const maxCd = limits.maxCentralDirectoryBytes ?? DEFAULT_MAX_CD_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (cdSize > maxCd) throw new ZipError('too_large', `${path}: central directory of ${cdSize} bytes exceeds the limit of ${maxCd}`);
  if (count > maxEntries) throw new ZipError('too_large', `${path}: ${count} entries exceed the limit of ${maxEntries}`);
  if (cdOffset + cdSize > cdEnd) {
    throw new ZipError('bad_zip', `${path}: central directory [${cdOffset}, ${cdOffset + cdSize}) overlaps the end records at ${cdEnd}`);
  }
  if (count * CENTRAL_HEADER_SIZE > cdSize) throw new ZipError('bad_zip', `${path}: ${count} entries cannot fit in a central directory of ${cdSize} bytes`);
  const cd = await readExact(handle, cdOffset, cdSize, path);
  return parseCentralDirectory(cd, count, cdOffset, size, path);
}

function parseCentralDirectory(cd: Uint8Array, count: number, cdOffset: number, fileSize: number, path: string): CentralDirectory {
  const v = view(cd);
  const entries = new Map<string, ZipEntry>();
  const nameLengths = new Map<string, number>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER_SIZE > cd.length) throw new ZipError('bad_zip', `${path}: central directory ends inside entry ${i}`);
    if (v.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError('bad_zip', `${path}: bad central directory signature for entry ${i} at byte ${cdOffset + p}`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let compressedSize: number = v.getUint32(p + 20, true);
    let size: number = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let disk: number = v.getUint16(p + 34, true);
    let localHeaderOffset: number = v.getUint32(p + 42, true);
    const end = p + CENTRAL_HEADER_SIZE + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipError('bad_zip', `${path}: central directory entry ${i} runs past the directory`);
    const name = decodeName(cd.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLen), (flags & FLAG_UTF8) !== 0);
    const extra = cd.subarray(p + CENTRAL_HEADER_SIZE + nameLen, p + CENTRAL_HEADER_SIZE + nameLen + extraLen);
    if (size === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX || disk === U16_MAX) {
      const z = readZip64Extra(extra, { size: size === U32_MAX, compressed: compressedSize === U32_MAX, offset: localHeaderOffset === U32_MAX, disk: disk === U16_MAX }, path, name);
      size = z.size ?? size;
      compressedSize = z.compressed ?? compressedSize;
      localHeaderOffset = z.offset ?? localHeaderOffset;
      disk = z.disk ?? disk;
    }
    const bad = checkEntryName(name);
    if (bad) throw new ZipError('bad_entry_name', `${path}: entry name ${JSON.stringify(name)} ${bad}`);
    if (entries.has(name)) throw new ZipError('bad_zip', `${path}: duplicate entry "${name}"`);
    if (disk !== 0) throw new ZipError('unsupported_zip', `${path}: entry "${name}" lives on disk ${disk}; multi-disk archives are not supported`);
    if ((flags & FLAG_ENCRYPTED) !== 0) throw new ZipError('unsupported_zip', `${path}: entry "${name}" is encrypted`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      throw new ZipError('unsupported_zip', `${path}: entry "${name}" uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (method === METHOD_STORED && compressedSize !== size) {
      throw new ZipError('bad_zip', `${path}: stored entry "${name}" has compressed size ${compressedSize} but size ${size}`);
    }
    if (localHeaderOffset + LOCAL_HEADER_SIZE + compressedSize > cdOffset || localHeaderOffset + compressedSize > fileSize) {
      throw new ZipError('bad_zip', `${path}: entry "${name}" (${compressedSize} bytes at ${localHeaderOffset}) overlaps the central directory`);
    }
    entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset });
    nameLengths.set(name, nameLen);
    p = end;
  }
  return { entries, nameLengths };
}

// The ZIP64 extended-information field holds, in this order, only the values whose 32-bit
// (or 16-bit) slot in the header is saturated.
function readZip64Extra(
  extra: Uint8Array,
  want: { size: boolean; compressed: boolean; offset: boolean; disk: boolean },
  path: string,
  name: string,
): { size?: number; compressed?: number; offset?: number; disk?: number } {
  const v = view(extra);
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (p + 4 + len > extra.length) break;
    if (id === ZIP64_EXTRA_ID) {
      let q = p + 4;
      const end = q + len;
      const next = (what: string): number => {
        if (q + 8 > end) throw new ZipError('bad_zip', `${path}: ZIP64 field of "${name}" lacks the ${what}`);
        const x = toSafe(v.getBigUint64(q, true), path, `${what} of "${name}"`);
        q += 8;
        return x;
      };
      const out: { size?: number; compressed?: number; offset?: number; disk?: number } = {};
      if (want.size) out.size = next('size');
      if (want.compressed) out.compressed = next('compressed size');
      if (want.offset) out.offset = next('local header offset');
      if (want.disk) {
        if (q + 4 > end) throw new ZipError('bad_zip', `${path}: ZIP64 field of "${name}" lacks the disk number`);
        out.disk = v.getUint32(q, true);
      }
      return out;
    }
    p += 4 + len;
  }
  throw new ZipError('bad_zip', `${path}: entry "${name}" has saturated sizes but no ZIP64 extra field`);
}

async function inflateRange(path: string, entry: ZipEntry, dataStart: number, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const wantEnd = offset + length;
  let pos = 0; // uncompressed bytes seen so far
  const source = createReadStream(path, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const inflate = createInflateRaw();
  source.on('error', (err) => inflate.destroy(err));
  source.pipe(inflate);
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      const from = Math.max(offset, pos);
      const to = Math.min(wantEnd, pos + chunk.length);
      if (to > from) out.set(chunk.subarray(from - pos, to - pos), from - offset);
      pos += chunk.length;
      // stop early: the rest of the entry is not needed (and a bomb would only get this far)
      if (pos >= wantEnd) break;
    }
  } catch (err) {
    throw new ZipError('bad_zip', `${path}: entry "${entry.name}" does not inflate: ${(err as Error).message}`);
  } finally {
    source.destroy();
    inflate.destroy();
  }
  if (pos < wantEnd) throw new ZipError('short_read', `${path}: entry "${entry.name}" inflates to ${pos} bytes, the directory says ${entry.size}`);
  return out;
}

async function readExact(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(READ_CHUNK_BYTES, length - done), position + done);
    if (bytesRead === 0) throw new ZipError('short_read', `${path}: file ended at byte ${position + done}, expected ${length - done} more bytes`);
    done += bytesRead;
  }
  return out;
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  // Without the UTF-8 flag names are CP437; torch writes ASCII, so anything else is decoded as latin1.
  if (utf8) return new TextDecoder('utf-8').decode(bytes);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function toSafe(x: bigint, path: string, what: string): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('bad_zip', `${path}: ${what} ${x} is out of range`);
  return Number(x);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hex(x: number): string {
  return `0x${x.toString(16).padStart(8, '0')}`;
}

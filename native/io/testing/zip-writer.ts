// Test helper: writes zip archives the way torch.save's miniz writer does (stored entries,
// data padded to 64-byte alignment with an "FB" extra field in the local header only), with
// switches for deflate and for ZIP64 records, and a writer for torch-format archives.
// Not used by production code.
import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import { pickleValue, type PickleWriterOptions, type PyValue } from './pickle-writer.js';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Pad the local header so the data starts at a multiple of this (torch uses 64). */
  align?: number;
}

export interface ZipOptions {
  /** Write ZIP64 extra fields and end records even when the sizes fit in 32 bits. */
  zip64?: boolean;
}

const PAD_EXTRA_ID = 0x4246; // "FB", torch's padding record

/** The archive as a list of chunks (concatenate or write them in order). */
export function buildZip(entries: ZipInput[], opts: ZipOptions = {}): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const z64 = opts.zip64 === true;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const method = e.deflate ? 8 : 0;
    const localZip64 = z64 ? extra(0x0001, [u64(e.data.length), u64(body.length)]) : new Uint8Array(0);
    let pad: Uint8Array = new Uint8Array(0);
    if (e.align) {
      const start = offset + 30 + name.length + localZip64.length;
      const need = (e.align - ((start + 4) % e.align)) % e.align;
      pad = extra(PAD_EXTRA_ID, [new Uint8Array(need)]);
    }
    const localExtra = concat([localZip64, pad]);
    const local = new Uint8Array(30);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, z64 ? 45 : 20, true);
    lv.setUint16(6, 0x800, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, z64 ? 0xffffffff : body.length, true);
    lv.setUint32(22, z64 ? 0xffffffff : e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, localExtra.length, true);
    chunks.push(local, name, localExtra, body);
    const cdExtra = z64 ? extra(0x0001, [u64(e.data.length), u64(body.length), u64(offset)]) : new Uint8Array(0);
    const cd = new Uint8Array(46);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, z64 ? 45 : 20, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint16(8, 0x800, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cdExtra.length, true);
    cv.setUint32(42, z64 ? 0xffffffff : offset, true);
    central.push(cd, name, cdExtra);
    offset += 30 + name.length + localExtra.length + body.length;
  }
  const cdBytes = concat(central);
  const cdOffset = offset;
  chunks.push(cdBytes);
  offset += cdBytes.length;
  if (z64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdBytes.length), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset), true);
    lv.setUint32(16, 1, true);
    chunks.push(rec, loc);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, z64 ? 0xffff : entries.length, true);
  ev.setUint16(10, z64 ? 0xffff : entries.length, true);
  ev.setUint32(12, z64 ? 0xffffffff : cdBytes.length, true);
  ev.setUint32(16, z64 ? 0xffffffff : cdOffset, true);
  chunks.push(eocd);
  return chunks;
}

export async function writeZip(path: string, entries: ZipInput[], opts: ZipOptions = {}): Promise<void> {
  await writeFile(path, concat(buildZip(entries, opts)));
}

export interface TorchZipOptions extends ZipOptions, PickleWriterOptions {
  /** The archive's folder name; torch.save uses the file's stem ("archive" for buffers). */
  prefix?: string;
  /** Storage bytes by key (`<prefix>/data/<key>`). */
  storages?: Record<string, Uint8Array>;
  deflate?: boolean;
  /** Replace the pickle (e.g. a hostile one) instead of pickling `root`. */
  pickle?: Uint8Array;
  byteorder?: string;
}

/** Writes a file laid out exactly as torch.save (torch ≥ 1.6) writes it. */
export async function writeTorchZip(path: string, root: PyValue, opts: TorchZipOptions = {}): Promise<void> {
  const prefix = opts.prefix ?? 'archive';
  const entries: ZipInput[] = [{ name: `${prefix}/data.pkl`, data: opts.pickle ?? pickleValue(root, opts), deflate: opts.deflate }];
  entries.push({ name: `${prefix}/byteorder`, data: new TextEncoder().encode(opts.byteorder ?? 'little'), deflate: opts.deflate });
  for (const [key, data] of Object.entries(opts.storages ?? {})) entries.push({ name: `${prefix}/data/${key}`, data, deflate: opts.deflate, align: 64 });
  entries.push({ name: `${prefix}/version`, data: new TextEncoder().encode('3\n'), deflate: opts.deflate });
  await writeZip(path, entries, opts);
}

function extra(id: number, parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  const out = new Uint8Array(4 + body.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, id, true);
  v.setUint16(2, body.length, true);
  out.set(body, 4);
  return out;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Test helpers for the gallery: a temp data dir with an open store, real PNGs made with sharp,
// and a minimal reader for stored (uncompressed) zip entries, enough to check what zip() streams.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openDatabase, type Db } from '../database.js';
import { GalleryStore, type NewImageMeta } from '../gallery-store.js';

export interface TempGallery {
  dir: string;
  db: Db;
  store: GalleryStore;
  /** Closes the database and opens a fresh store on the same data dir (a server restart). */
  reopen(): GalleryStore;
  cleanup(): Promise<void>;
}

export async function tempGallery(): Promise<TempGallery> {
  const dir = await mkdtemp(join(tmpdir(), 'easel-gallery-'));
  const t: TempGallery = {
    dir,
    db: openDatabase(join(dir, 'gallery.db')),
    store: undefined as unknown as GalleryStore,
    reopen() {
      t.db.close();
      t.db = openDatabase(join(dir, 'gallery.db'));
      t.store = new GalleryStore({ db: t.db, dataDir: dir });
      return t.store;
    },
    async cleanup() {
      if (t.db.open) t.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  t.store = new GalleryStore({ db: t.db, dataDir: dir });
  return t;
}

export async function makePng(width: number, height: number, color = '#336699'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer();
}

export function meta(overrides: Partial<NewImageMeta> = {}): NewImageMeta {
  return {
    task: 'txt2img',
    prompt: 'a red cat',
    negative_prompt: 'blurry',
    model: 'sd15',
    width: 64,
    height: 48,
    seed: 42,
    steps: 20,
    cfg_scale: 7,
    sampler: 'euler',
    scheduler: 'automatic',
    ...overrides,
  };
}

export async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts);
}

/** Entries of a zip whose members are stored (method 0), read via the central directory. */
export function readStoredZip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let pos = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(pos) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(pos + 10);
    const size = zip.readUInt32LE(pos + 20);
    const nameLen = zip.readUInt16LE(pos + 28);
    const extraLen = zip.readUInt16LE(pos + 30);
    const commentLen = zip.readUInt16LE(pos + 32);
    const local = zip.readUInt32LE(pos + 42);
    const name = zip.toString('utf8', pos + 46, pos + 46 + nameLen);
    if (method !== 0) throw new Error(`entry ${name} is compressed`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    out.set(name, zip.subarray(dataStart, dataStart + size));
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

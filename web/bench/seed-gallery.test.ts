import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../../server/infotext/png-chunks.js';
import { openDatabase, type Db } from '../../server/gallery/database.js';
import { GalleryStore, type ImageRecord } from '../../server/gallery/gallery-store.js';
import { GalleryQuerySchema } from '../../server/protocol/gallery.js';
import { seedGalleryImages, seededImageMeta } from './seed-gallery.js';

let dir: string;
let db: Db | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'easel-seed-'));
});
afterEach(() => {
  db?.close();
  db = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function listAll(store: GalleryStore): ImageRecord[] {
  const out: ImageRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = store.list(GalleryQuerySchema.parse({ limit: 200, ...(cursor ? { cursor } : {}) }));
    out.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

function reopen(): GalleryStore {
  db = openDatabase(join(dir, 'gallery.db'));
  return new GalleryStore({ db, dataDir: dir });
}

describe('seedGalleryImages', () => {
  it('gives every row its own id, time, seed, prompt and file, newest first, spread over days', async () => {
    const newestAt = Date.UTC(2026, 5, 1, 0, 10);
    const result = await seedGalleryImages(dir, 2500, { newestAt });
    expect(result.count).toBe(2500);

    const store = reopen();
    expect(store.count()).toBe(2500);
    const page = store.list(GalleryQuerySchema.parse({ limit: 200 }));
    expect(page.items).toHaveLength(200);
    expect(page.items[0]!.created_at).toBe('2026-06-01T00:10:00.000Z');
    expect(page.items[0]!.prompt).toBe(seededImageMeta(0).prompt);
    const all = listAll(store);
    for (const key of ['id', 'created_at', 'seed', 'prompt', 'file'] as const) {
      expect(new Set(all.map((r) => r[key])).size).toBe(2500);
    }
    // 2500 images 37 s apart from 00:10 reach back 25.7 hours: three day folders.
    expect([...new Set(all.map((r) => r.file.slice(0, 10)))].sort()).toEqual(['2026-05-30', '2026-05-31', '2026-06-01']);
    expect(all[2499]!.created_at).toBe(new Date(newestAt - 2499 * 37_000).toISOString());
    expect(store.list(GalleryQuerySchema.parse({ favorite: true, limit: 200 })).items).toHaveLength(25);
    expect(store.list(GalleryQuerySchema.parse({ search: 'study 1234', limit: 10 })).items.map((r) => r.seed)).toEqual([1000 + 1233]);
  });

  it('writes real files the server finds in place: a PNG with infotext and a WebP thumbnail per row', async () => {
    await seedGalleryImages(dir, 40);
    const store = reopen();
    const rows = store.list(GalleryQuerySchema.parse({ limit: 50 })).items;
    expect(rows).toHaveLength(40);
    for (const r of rows) {
      expect(existsSync(join(dir, 'outputs', r.file))).toBe(true);
      expect(existsSync(store.thumbPath(r.id))).toBe(true);
    }
    const png = await sharp(join(dir, 'outputs', rows[7]!.file)).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 64, 64]);
    expect(readPngTextChunks(readFileSync(join(dir, 'outputs', rows[7]!.file))).parameters).toMatch(/^Easel bench image\n/);
    const thumb = await sharp(store.thumbPath(rows[7]!.id)).metadata();
    expect(thumb.format).toBe('webp');
    // Linked, not copied: one inode shared by every row's PNG.
    expect(statSync(join(dir, 'outputs', rows[0]!.file)).ino).toBe(statSync(join(dir, 'outputs', rows[39]!.file)).ino);
    // What the server does at startup: nothing to add, remove or clean.
    expect(await store.reconcile()).toEqual({ added: 0, removed: 0, cleaned: 0 });
    expect(store.count()).toBe(40);
  });

  it('has distinct prompts and a mix of tasks and models', () => {
    const metas = Array.from({ length: 500 }, (_, i) => seededImageMeta(i));
    expect(new Set(metas.map((m) => m.prompt)).size).toBe(500);
    expect(new Set(metas.map((m) => m.task))).toEqual(new Set(['txt2img', 'img2img']));
    expect(new Set(metas.map((m) => m.model)).size).toBe(3);
  });
});

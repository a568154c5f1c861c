import { existsSync } from 'node:fs';
import { readdir, readFile, unlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatInfotext } from '../infotext/format-infotext.js';
import { readPngTextChunks, withPngTextChunk } from '../infotext/png-chunks.js';
import { GalleryQuerySchema, type GalleryQueryInput } from '../protocol/gallery.js';
import type { ImportedImageRecord } from './gallery-store.js';
import { makePng, meta, readStoredZip, readStream, tempGallery, type TempGallery } from './test/helpers.js';

let g: TempGallery;
beforeEach(async () => {
  g = await tempGallery();
});
afterEach(async () => {
  await g.cleanup();
});

const q = (input: GalleryQueryInput = {}) => GalleryQuerySchema.parse(input);

function record(i: number, overrides: Partial<ImportedImageRecord> = {}): ImportedImageRecord {
  return {
    ...meta({ seed: i, prompt: `prompt number ${i}` }),
    created_at: Date.UTC(2026, 0, 1) + i * 1000,
    file: `2026-01-01/${i}.png`,
    infotext: `prompt number ${i}\nSteps: 20, Seed: ${i}, Size: 64x48`,
    ...overrides,
  };
}

async function allFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe('addImage', () => {
  it('writes the PNG with its infotext, a WebP thumbnail, and the row', async () => {
    const infotext = formatInfotext({ prompt: 'a red cat, 猫', steps: 20, sampler: 'euler', cfg_scale: 7, seed: 42, width: 640, height: 320 });
    const rec = await g.store.addImage({ png: await makePng(640, 320), infotext, meta: meta({ prompt: 'a red cat, 猫', width: 640, height: 320 }) });

    expect(rec.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const day = rec.created_at.slice(0, 10);
    expect(rec.file).toMatch(new RegExp(`^${day}/\\d{13}-42\\.png$`));
    const png = await readFile(join(g.dir, 'outputs', rec.file));
    expect(readPngTextChunks(png).parameters).toBe(infotext);
    const thumb = await sharp(join(g.dir, 'thumbs', `${rec.id}.webp`)).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 256, 128]);
    expect(g.store.get(rec.id)).toEqual(rec);
    expect(rec).toMatchObject({ favorite: false, job_id: null, infotext, seed: 42, width: 640 });
    expect((await allFiles(g.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives two images with the same seed in the same millisecond different files', async () => {
    const png = await makePng(8, 8);
    const [a, b] = await Promise.all([
      g.store.addImage({ png, infotext: 'x', meta: meta() }),
      g.store.addImage({ png, infotext: 'y', meta: meta() }),
    ]);
    expect(a!.file).not.toBe(b!.file);
    expect(g.store.count()).toBe(2);
  });

  it('leaves nothing behind when the image is not a PNG', async () => {
    await expect(g.store.addImage({ png: Buffer.from('not a png'), infotext: 'x', meta: meta() })).rejects.toMatchObject({ code: 'invalid_image' });
    expect(g.store.count()).toBe(0);
    expect(await allFiles(join(g.dir, 'outputs'))).toEqual([]);
    expect(await allFiles(join(g.dir, 'thumbs'))).toEqual([]);
  });
});

describe('list', () => {
  it('pages newest first through ties in created_at without gaps or repeats', () => {
    const rows = Array.from({ length: 130 }, (_, i) => record(i, { created_at: Date.UTC(2026, 0, 1) + Math.floor(i / 10) * 1000 }));
    expect(g.store.insertRecords(rows)).toBe(130);
    const all = g.store.list(q({ limit: 200 })).items;
    expect(all).toHaveLength(130);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id)).toBe(true);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = g.store.list(q({ limit: 50, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.map((r) => r.id));
  });

  it('filters by task, model, favorite, date range and size ranges', () => {
    g.store.insertRecords([
      record(1, { task: 'img2img', model: 'a', width: 512, height: 512, created_at: '2026-01-01T10:00:00Z' }),
      record(2, { task: 'txt2img', model: 'b', width: 768, height: 512, created_at: '2026-01-02T23:59:59.999Z' }),
      record(3, { task: 'txt2img', model: 'a', width: 1024, height: 1024, created_at: '2026-01-03T00:00:00Z', favorite: true }),
    ]);
    const seeds = (input: GalleryQueryInput) => g.store.list(q(input)).items.map((r) => r.seed);
    expect(seeds({})).toEqual([3, 2, 1]);
    expect(seeds({ task: 'txt2img' })).toEqual([3, 2]);
    expect(seeds({ model: 'a' })).toEqual([3, 1]);
    expect(seeds({ favorite: true })).toEqual([3]);
    expect(seeds({ favorite: 'false' })).toEqual([2, 1]);
    expect(seeds({ date_from: '2026-01-02', date_to: '2026-01-02' })).toEqual([2]);
    expect(seeds({ date_from: '2026-01-01T12:00:00Z' })).toEqual([3, 2]);
    expect(seeds({ min_width: '700', max_width: 900 })).toEqual([2]);
    expect(seeds({ min_height: 600 })).toEqual([3]);
    expect(seeds({ model: 'a', max_height: 600 })).toEqual([1]);
  });

  it('searches prompts and negative prompts with prefix terms, ANDed, safe against FTS syntax', () => {
    g.store.insertRecords([
      record(1, { prompt: 'masterpiece, (red:1.2) cat on a sofa', negative_prompt: 'blurry' }),
      record(2, { prompt: 'a blue dog', negative_prompt: 'lowres, bad hands' }),
      record(3, { prompt: 'red dragon over a café', negative_prompt: '' }),
    ]);
    const seeds = (search: string) => g.store.list(q({ search })).items.map((r) => r.seed);
    expect(seeds('red')).toEqual([3, 1]);
    expect(seeds('red cat')).toEqual([1]);
    expect(seeds('mast')).toEqual([1]);
    expect(seeds('hands')).toEqual([2]);
    expect(seeds('cafe')).toEqual([3]);
    expect(seeds('"unbalanced OR prompt:x NEAR(')).toEqual([]);
    expect(seeds('   ')).toEqual([3, 2, 1]);
  });

  it('rejects a forged cursor with invalid_params', () => {
    expect(() => g.store.list(q({ cursor: 'bm90IGEgY3Vyc29y' }))).toThrow(expect.objectContaining({ code: 'invalid_params', field: 'cursor' }));
  });
});

describe('update, delete, zip', () => {
  it('sets and clears favorite; unknown ids are not_found', async () => {
    const rec = await g.store.addImage({ png: await makePng(8, 8), infotext: 'x', meta: meta() });
    expect(g.store.update(rec.id, { favorite: true }).favorite).toBe(true);
    expect(g.store.list(q({ favorite: true })).items.map((r) => r.id)).toEqual([rec.id]);
    expect(g.store.update(rec.id, { favorite: false }).favorite).toBe(false);
    expect(() => g.store.update('nope', { favorite: true })).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('deletes file, thumbnail and row; reports missing ids; a vanished file is not an error', async () => {
    const a = await g.store.addImage({ png: await makePng(8, 8), infotext: 'a', meta: meta({ seed: 1 }) });
    const b = await g.store.addImage({ png: await makePng(8, 8), infotext: 'b', meta: meta({ seed: 2 }) });
    await unlink(join(g.dir, 'outputs', b.file));
    const res = await g.store.delete([a.id, b.id, 'missing-id']);
    expect(res).toEqual({ deleted: [a.id, b.id], missing: ['missing-id'] });
    expect(g.store.count()).toBe(0);
    expect(await allFiles(join(g.dir, 'outputs'))).toEqual([]);
    expect(await allFiles(join(g.dir, 'thumbs'))).toEqual([]);
  });

  it('streams a zip of the selected images named <id>-<seed>.png, skipping unknown ids', async () => {
    const a = await g.store.addImage({ png: await makePng(8, 8, '#ff0000'), infotext: 'a', meta: meta({ seed: 11 }) });
    const b = await g.store.addImage({ png: await makePng(9, 9, '#00ff00'), infotext: 'b', meta: meta({ seed: 12 }) });
    await g.store.addImage({ png: await makePng(10, 10), infotext: 'c', meta: meta({ seed: 13 }) });
    const entries = readStoredZip(await readStream(g.store.zip([a.id, b.id, 'unknown'])));
    expect([...entries.keys()]).toEqual([`${a.id}-11.png`, `${b.id}-12.png`]);
    expect(entries.get(`${b.id}-12.png`)!.equals(await readFile(join(g.dir, 'outputs', b.file)))).toBe(true);
  });
});

describe('insertRecords', () => {
  it('skips duplicates and refuses paths that leave outputs/', () => {
    expect(g.store.insertRecords([record(1, { id: 'fixed-id' })])).toBe(1);
    expect(g.store.insertRecords([record(2, { id: 'fixed-id' })])).toBe(0);
    expect(() => g.store.insertRecords([record(3, { file: '../../etc/passwd' })])).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(() => g.store.insertRecords([record(4, { file: '/abs/x.png' })])).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(g.store.count()).toBe(1);
  });
});

describe('restart and reconcile', () => {
  it('re-imports a PNG without a row, removes a row without a file, cleans temp files', async () => {
    const kept = await g.store.addImage({ png: await makePng(8, 8), infotext: 'kept', meta: meta({ seed: 1 }) });
    const lost = await g.store.addImage({ png: await makePng(8, 8), infotext: 'lost', meta: meta({ seed: 2 }) });
    await g.store.update(kept.id, { favorite: true });

    // A crash after the file write but before the row: a PNG with infotext and no row.
    const infotext = formatInfotext({
      prompt: 'orphan, with "quotes"',
      negative_prompt: 'bad',
      steps: 12,
      sampler: 'DPM++ 2M',
      scheduler: 'karras',
      cfg_scale: 5.5,
      seed: 777,
      width: 96,
      height: 64,
      model: 'mymodel',
      model_hash: '0123456789',
    });
    await mkdir(join(g.dir, 'outputs', '2026-02-03'), { recursive: true });
    const orphanFile = join(g.dir, 'outputs', '2026-02-03', '1770000000000-777.png');
    await writeFile(orphanFile, withPngTextChunk(await makePng(96, 64), 'parameters', infotext));
    // A crash in the middle of an atomic write, and a file deleted by hand.
    const tmp = join(g.dir, 'outputs', '2026-02-03', '.1770000000001-5.png.abc123.tmp');
    await writeFile(tmp, 'partial');
    await unlink(join(g.dir, 'outputs', lost.file));

    const store = g.reopen();
    expect(await store.reconcile()).toEqual({ added: 1, removed: 1, cleaned: 1 });
    expect(existsSync(tmp)).toBe(false);
    expect(store.get(lost.id)).toBeUndefined();
    expect(existsSync(join(g.dir, 'thumbs', `${lost.id}.webp`))).toBe(false);
    expect(store.get(kept.id)).toMatchObject({ favorite: true, infotext: 'kept' });

    const imported = store.list(q({ search: 'orphan' })).items;
    expect(imported).toHaveLength(1);
    expect(imported[0]).toMatchObject({
      prompt: 'orphan, with "quotes"',
      negative_prompt: 'bad',
      steps: 12,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      cfg_scale: 5.5,
      seed: 777,
      width: 96,
      height: 64,
      model: 'mymodel',
      task: 'txt2img',
      infotext,
      file: '2026-02-03/1770000000000-777.png',
      created_at: new Date(1770000000000).toISOString(),
    });
    expect(existsSync(join(g.dir, 'thumbs', `${imported[0]!.id}.webp`))).toBe(true);

    // A second start finds nothing to fix.
    expect(await g.reopen().reconcile()).toEqual({ added: 0, removed: 0, cleaned: 0 });
    expect(g.store.count()).toBe(2);
  });
});

describe('search with many hits', () => {
  it('gives the same newest-first pages whether the search starts from FTS hits or from the date index', () => {
    // More hits than FTS_DRIVE_MAX for "common", few for "rare": both plans get exercised.
    const rows = Array.from({ length: 2600 }, (_, i) =>
      record(i, { prompt: i % 97 === 0 ? `rare common ${i}` : i % 5 === 0 ? `other ${i}` : `common ${i}`, created_at: Date.UTC(2026, 0, 1) + ((i * 7919) % 2600) * 1000 }),
    );
    g.store.insertRecords(rows);
    for (const term of ['common', 'rare']) {
      const expected = rows
        .filter((r) => r.prompt.split(' ').includes(term))
        .sort((a, b) => (b.created_at as number) - (a.created_at as number))
        .map((r) => r.seed);
      const got: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Array<{ seed: number }>; next_cursor: string | null } = g.store.list(q({ search: term, limit: 200, ...(cursor ? { cursor } : {}) }));
        got.push(...page.items.map((r) => r.seed));
        cursor = page.next_cursor;
      } while (cursor && got.length < 400);
      expect(got).toEqual(expected.slice(0, got.length));
      expect(got.length).toBe(Math.min(400, expected.length));
    }
  });
});

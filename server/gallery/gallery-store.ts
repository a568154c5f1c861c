// The gallery: generated images on disk (outputs/YYYY-MM-DD/<timestamp>-<seed>.png with the A1111
// infotext in `parameters`, thumbs/<id>.webp) and their rows in gallery.db (with an FTS5 index on
// the prompts). The file is written before the row, so a crash leaves at worst a file without a
// row, which `reconcile()` re-imports from its infotext at the next start.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import { parseInfotext } from '../infotext/parse-infotext.js';
import { readPngSize, readPngTextChunks, withPngTextChunk } from '../infotext/png-chunks.js';
import { EaselError } from '../protocol/errors.js';
import type { GalleryImage, GalleryQuery } from '../protocol/gallery.js';
import { applySchema, type Db } from './database.js';
import {
  confinedPath,
  dayFolder,
  IMAGE_ID_PATTERN,
  isSafeRelativeFile,
  isTempFileName,
  makeThumbnail,
  newImageId,
  sanitizeFileName,
  unlinkQuiet,
  writeFileAtomic,
} from './gallery-files.js';
import { compileQuery, encodeCursor, ftsQuery } from './gallery-query.js';

/** What a new image's row records: the wire type's generation fields (server/protocol/gallery.ts). */
export type NewImageMeta = Pick<
  GalleryImage,
  'task' | 'prompt' | 'negative_prompt' | 'model' | 'width' | 'height' | 'seed' | 'steps' | 'cfg_scale' | 'sampler' | 'scheduler'
> & { job_id?: string | null };

export interface ImageRecord extends NewImageMeta {
  id: string;
  job_id: string | null;
  /** ISO 8601, UTC, millisecond precision. */
  created_at: string;
  favorite: boolean;
  infotext: string;
  /** Path relative to `$DATA_DIR/outputs`, with `/` separators. */
  file: string;
}

/** A row to insert as it is (restore from a backup, benchmarks): no file is written. */
export interface ImportedImageRecord extends NewImageMeta {
  id?: string;
  /** ISO 8601 or epoch milliseconds. */
  created_at: string | number;
  file: string;
  infotext: string;
  favorite?: boolean;
}

export interface ReconcileResult {
  /** PNGs that had no row, imported from their infotext. */
  added: number;
  /** Rows whose PNG had vanished. */
  removed: number;
  /** Leftover temp files and orphan thumbnails deleted. */
  cleaned: number;
}

// New rows are indexed in FTS by the store in one INSERT ... SELECT per batch (four times faster
// than a per-row trigger at 100,000 rows); deletes and prompt edits stay on triggers.
export const IMAGES_SCHEMA: readonly string[] = [
  `CREATE TABLE images (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     job_id TEXT,
     created_at INTEGER NOT NULL,
     task TEXT NOT NULL,
     prompt TEXT NOT NULL,
     negative_prompt TEXT NOT NULL,
     model TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     seed INTEGER NOT NULL,
     steps INTEGER NOT NULL,
     cfg_scale REAL NOT NULL,
     sampler TEXT NOT NULL,
     scheduler TEXT NOT NULL,
     favorite INTEGER NOT NULL DEFAULT 0,
     infotext TEXT NOT NULL,
     file TEXT NOT NULL UNIQUE
   );
   CREATE INDEX images_page ON images (created_at DESC, id DESC);
   CREATE INDEX images_task_page ON images (task, created_at DESC, id DESC);
   CREATE INDEX images_model_page ON images (model, created_at DESC, id DESC);
   CREATE INDEX images_favorite_page ON images (created_at DESC, id DESC) WHERE favorite = 1;
   CREATE INDEX images_job ON images (job_id);
   CREATE VIRTUAL TABLE images_fts USING fts5(prompt, negative_prompt, content='images', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
   CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
     INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt) VALUES ('delete', old.seq, old.prompt, old.negative_prompt);
   END;
   CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt, negative_prompt ON images BEGIN
     INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt) VALUES ('delete', old.seq, old.prompt, old.negative_prompt);
     INSERT INTO images_fts (rowid, prompt, negative_prompt) VALUES (new.seq, new.prompt, new.negative_prompt);
   END;`,
];

const COLUMNS = 'id, job_id, created_at, task, prompt, negative_prompt, model, width, height, seed, steps, cfg_scale, sampler, scheduler, favorite, infotext, file';
const INSERT_SQL = `INSERT OR IGNORE INTO images (${COLUMNS}) VALUES (@id, @job_id, @created_at, @task, @prompt, @negative_prompt, @model, @width, @height, @seed, @steps, @cfg_scale, @sampler, @scheduler, @favorite, @infotext, @file)`;
/** Below this many hits a search sorts its hits; above it, it walks the date index (measured at 100k rows). */
const FTS_DRIVE_MAX = 2000;
const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;
const FILE_TIMESTAMP = /^(\d{13})-/;

interface ImageRow extends Omit<ImageRecord, 'created_at' | 'favorite'> {
  created_at: number;
  favorite: number;
}

function toRecord(row: ImageRow): ImageRecord {
  return { ...row, created_at: new Date(row.created_at).toISOString(), favorite: row.favorite === 1 };
}

function toRow(r: NewImageMeta & { id: string; created_at: number; favorite: boolean; infotext: string; file: string }): ImageRow {
  return {
    id: r.id,
    job_id: r.job_id ?? null,
    created_at: r.created_at,
    task: r.task,
    prompt: r.prompt,
    negative_prompt: r.negative_prompt,
    model: r.model,
    width: r.width,
    height: r.height,
    seed: r.seed,
    steps: r.steps,
    cfg_scale: r.cfg_scale,
    sampler: r.sampler,
    scheduler: r.scheduler,
    favorite: r.favorite ? 1 : 0,
    infotext: r.infotext,
    file: r.file,
  };
}

/** A1111 infotext keys that tell which task made an image that lost its row. */
function guessTask(fields: Record<string, unknown>): string {
  if ('Mask blur' in fields) return 'inpaint';
  if ('Denoising strength' in fields && !('Hires upscale' in fields) && !('Hires upscaler' in fields)) return 'img2img';
  return 'txt2img';
}

export class GalleryStore {
  readonly dataDir: string;
  readonly outputsDir: string;
  readonly thumbsDir: string;
  private readonly db: Db;
  /** File names handed out but not yet renamed into place, so two saves in one ms never collide. */
  private readonly reserved = new Set<string>();

  constructor(opts: { db: Db; dataDir: string }) {
    this.db = opts.db;
    this.dataDir = opts.dataDir;
    this.outputsDir = join(opts.dataDir, 'outputs');
    this.thumbsDir = join(opts.dataDir, 'thumbs');
    applySchema(this.db, 'images', IMAGES_SCHEMA);
  }

  /**
   * Saves one generated image: the PNG with `infotext` in its `parameters` chunk (atomically), its
   * thumbnail, then the row. On failure nothing is left behind.
   *
   * @example await store.addImage({ png, infotext: formatInfotext(p), meta: { task: 'txt2img', ... } })
   */
  async addImage(input: { png: Uint8Array; infotext: string; meta: NewImageMeta; beside?: { file: string; suffix: string } }): Promise<ImageRecord> {
    const png = withPngTextChunk(input.png, 'parameters', input.infotext);
    const id = newImageId();
    const createdAt = Date.now();
    const file = this.reserveFileName(createdAt, input.meta.seed, input.beside);
    const abs = confinedPath(this.outputsDir, file);
    const thumb = this.thumbPath(id);
    try {
      await writeFileAtomic(abs, png);
      await writeFileAtomic(thumb, await makeThumbnail(png));
      const row = toRow({ ...input.meta, id, created_at: createdAt, favorite: false, infotext: input.infotext, file });
      this.insertRows([row]);
      return toRecord(row);
    } catch (err) {
      await unlinkQuiet(abs).catch(() => false);
      await unlinkQuiet(thumb).catch(() => false);
      throw err;
    } finally {
      this.reserved.delete(file);
    }
  }

  /** `beside`: an image derived from another (an upscale) goes next to it as `<its stem>-<suffix>.png`. */
  private reserveFileName(createdAt: number, seed: number, beside?: { file: string; suffix: string }): string {
    const slash = beside ? beside.file.lastIndexOf('/') : -1;
    const folder = beside && slash > 0 ? beside.file.slice(0, slash) : dayFolder(createdAt);
    const stem = beside && slash > 0 ? sanitizeFileName(`${beside.file.slice(slash + 1).replace(/\.png$/i, '')}-${beside.suffix}`) : sanitizeFileName(`${createdAt}-${seed}`);
    for (let n = 1; ; n++) {
      const file = `${folder}/${n === 1 ? stem : `${stem}-${n}`}.png`;
      if (!this.reserved.has(file) && !existsSync(confinedPath(this.outputsDir, file))) {
        this.reserved.add(file);
        return file;
      }
    }
  }

  get(id: string): ImageRecord | undefined {
    if (!IMAGE_ID_PATTERN.test(id)) return undefined;
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM images WHERE id = ?`).get(id) as ImageRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** One page, newest first; `next_cursor` is null on the last page. */
  list(q: GalleryQuery): { items: ImageRecord[]; next_cursor: string | null } {
    const match = q.search !== undefined ? ftsQuery(q.search) : undefined;
    const { sql, params, limit } = compileQuery(q, COLUMNS, match === undefined || this.fewMatches(match));
    const rows = this.db.prepare(sql).all(...params) as ImageRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
    return { items: page.map(toRecord), next_cursor: next };
  }

  /**
   * Whether a search matches few enough rows to start from the FTS hits and sort them; a common word
   * is faster the other way round: walk the date index and stop after one page of hits.
   */
  private fewMatches(match: string): boolean {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM images_fts WHERE images_fts MATCH ? LIMIT ?)').get(match, FTS_DRIVE_MAX) as { n: number };
    return row.n < FTS_DRIVE_MAX;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
  }

  update(id: string, patch: { favorite?: boolean }): ImageRecord {
    if (patch.favorite !== undefined && IMAGE_ID_PATTERN.test(id)) {
      this.db.prepare('UPDATE images SET favorite = ? WHERE id = ?').run(patch.favorite ? 1 : 0, id);
    }
    const record = this.get(id);
    if (!record) throw new EaselError('not_found', `no image ${id}`, { field: 'id' });
    return record;
  }

  /** Deletes files first, then rows: a crash in between leaves rows that reconcile removes. */
  async delete(ids: string[]): Promise<{ deleted: string[]; missing: string[] }> {
    const deleted: string[] = [];
    const missing: string[] = [];
    const found: ImageRecord[] = [];
    for (const id of new Set(ids)) {
      const record = this.get(id);
      if (record) found.push(record);
      else missing.push(id);
    }
    for (const record of found) {
      await unlinkQuiet(this.filePathOf(record));
      await unlinkQuiet(this.thumbPath(record.id));
    }
    const del = this.db.prepare('DELETE FROM images WHERE id = ?');
    this.db.transaction(() => {
      for (const record of found) if (del.run(record.id).changes > 0) deleted.push(record.id);
    })();
    return { deleted, missing };
  }

  /**
   * A streaming zip of the images that exist among `ids` (unknown ids are skipped), stored without
   * recompression since PNGs are already deflated. Names are `<id>-<seed>.png`.
   */
  zip(ids: string[]): NodeJS.ReadableStream {
    const zip = new yazl.ZipFile();
    for (const id of new Set(ids)) {
      const record = this.get(id);
      if (!record) continue;
      const abs = this.filePathOf(record);
      if (!existsSync(abs)) continue;
      zip.addFile(abs, sanitizeFileName(`${record.id}-${record.seed}.png`), { compress: false });
    }
    zip.end();
    return zip.outputStream;
  }

  /** Bulk insert of rows as given (no files written); rows whose id or file exists are skipped. */
  insertRecords(records: ImportedImageRecord[]): number {
    const rows = records.map((r) => {
      if (!isSafeRelativeFile(r.file)) throw new EaselError('invalid_params', `file: not a safe relative path: ${r.file}`, { field: 'file' });
      const id = r.id ?? newImageId();
      if (!IMAGE_ID_PATTERN.test(id)) throw new EaselError('invalid_params', `id: not an image id: ${id}`, { field: 'id' });
      const createdAt = typeof r.created_at === 'number' ? r.created_at : Date.parse(r.created_at);
      if (!Number.isSafeInteger(createdAt)) throw new EaselError('invalid_params', `created_at: not a date: ${r.created_at}`, { field: 'created_at' });
      return toRow({ ...r, id, created_at: createdAt, favorite: r.favorite ?? false });
    });
    return this.insertRows(rows);
  }

  /**
   * Restores one image as it was (Drive restore): the PNG bytes unchanged at `record.file` (or a
   * free name beside it when that file exists), its thumbnail, then the row with the given id,
   * created_at and favorite. False when the id is already in the gallery.
   */
  async importImage(png: Uint8Array, record: ImportedImageRecord & { id: string }): Promise<boolean> {
    if (this.get(record.id)) return false;
    if (!isSafeRelativeFile(record.file)) throw new EaselError('invalid_params', `file: not a safe relative path: ${record.file}`, { field: 'file' });
    let file = record.file;
    if (existsSync(confinedPath(this.outputsDir, file)) || this.reserved.has(file)) file = file.replace(/\.png$/i, '') + `-${record.id}.png`;
    const abs = confinedPath(this.outputsDir, file);
    const thumb = this.thumbPath(record.id);
    try {
      await writeFileAtomic(abs, png);
      await writeFileAtomic(thumb, await makeThumbnail(png));
      return this.insertRecords([{ ...record, file }]) === 1;
    } catch (err) {
      await unlinkQuiet(abs).catch(() => false);
      await unlinkQuiet(thumb).catch(() => false);
      throw err;
    }
  }

  /** Inserts rows (skipping existing ids/files) and indexes exactly the new ones, in one transaction. */
  private insertRows(rows: ImageRow[]): number {
    const insert = this.db.prepare(INSERT_SQL);
    return this.db.transaction(() => {
      // New rowids are max(seq) + 1 onwards, so everything above the old maximum is this batch.
      const before = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM images').get() as { m: number }).m;
      let inserted = 0;
      for (const row of rows) inserted += insert.run(row).changes;
      if (inserted > 0) {
        this.db.prepare('INSERT INTO images_fts (rowid, prompt, negative_prompt) SELECT seq, prompt, negative_prompt FROM images WHERE seq > ?').run(before);
      }
      return inserted;
    })();
  }

  filePath(id: string): string | undefined {
    const record = this.get(id);
    return record ? this.filePathOf(record) : undefined;
  }

  private filePathOf(record: ImageRecord): string {
    return confinedPath(this.outputsDir, record.file);
  }

  thumbPath(id: string): string {
    if (!IMAGE_ID_PATTERN.test(id)) throw new EaselError('invalid_params', `id: not an image id: ${id}`, { field: 'id' });
    return confinedPath(this.thumbsDir, `${id}.webp`);
  }

  /**
   * Brings rows and files back in line after a crash or a manual edit: temp files are deleted, rows
   * whose PNG vanished are removed, PNGs without a row are imported from their infotext, missing
   * thumbnails are remade and orphan thumbnails deleted.
   */
  async reconcile(): Promise<ReconcileResult> {
    const result: ReconcileResult = { added: 0, removed: 0, cleaned: 0 };
    const rows = this.db.prepare('SELECT id, file FROM images').all() as Array<{ id: string; file: string }>;
    const known = new Set(rows.map((r) => r.file));
    const ids = new Set(rows.map((r) => r.id));

    const onDisk: string[] = [];
    for (const day of await listDir(this.outputsDir)) {
      const dayDir = join(this.outputsDir, day);
      if (!(await isDir(dayDir))) continue;
      for (const name of await listDir(dayDir)) {
        if (isTempFileName(name)) {
          if (await unlinkQuiet(join(dayDir, name))) result.cleaned++;
        } else if (name.toLowerCase().endsWith('.png') && DAY_FOLDER.test(day)) onDisk.push(`${day}/${name}`);
      }
    }

    const gone = rows.filter((r) => !existsSync(confinedPath(this.outputsDir, r.file)));
    if (gone.length) {
      const del = this.db.prepare('DELETE FROM images WHERE id = ?');
      this.db.transaction(() => {
        for (const r of gone) result.removed += del.run(r.id).changes;
      })();
      for (const r of gone) {
        ids.delete(r.id);
        await unlinkQuiet(this.thumbPath(r.id));
      }
    }

    for (const file of onDisk) {
      if (known.has(file) || !isSafeRelativeFile(file)) continue;
      const record = await this.importFile(file);
      if (record) {
        ids.add(record.id);
        result.added++;
      }
    }

    for (const name of await listDir(this.thumbsDir)) {
      const id = name.endsWith('.webp') ? name.slice(0, -'.webp'.length) : '';
      if (isTempFileName(name) || !ids.has(id)) {
        if (await unlinkQuiet(join(this.thumbsDir, name))) result.cleaned++;
      }
    }
    for (const id of ids) {
      const thumb = this.thumbPath(id);
      if (existsSync(thumb)) continue;
      const abs = this.filePath(id);
      if (abs) await writeFileAtomic(thumb, await makeThumbnail(await readFile(abs))).catch(() => undefined);
    }
    return result;
  }

  /** Imports one PNG that has no row; undefined when it is not a readable PNG. */
  private async importFile(file: string): Promise<ImageRecord | undefined> {
    const abs = confinedPath(this.outputsDir, file);
    let png: Buffer;
    let size: { width: number; height: number };
    let infotext: string;
    try {
      png = await readFile(abs);
      size = readPngSize(png);
      infotext = readPngTextChunks(png)['parameters'] ?? '';
    } catch {
      return undefined;
    }
    const p = parseInfotext(infotext);
    const name = file.slice(file.lastIndexOf('/') + 1);
    const stamp = FILE_TIMESTAMP.exec(name);
    const createdAt = stamp ? Number(stamp[1]) : Math.round((await stat(abs)).mtimeMs);
    const id = newImageId();
    try {
      await writeFileAtomic(this.thumbPath(id), await makeThumbnail(png));
    } catch {
      return undefined; // a PNG sharp cannot decode stays on disk, out of the gallery
    }
    const row = toRow({
      id,
      created_at: createdAt,
      favorite: false,
      infotext,
      file,
      job_id: null,
      task: guessTask(p.fields),
      prompt: p.prompt,
      negative_prompt: p.negative_prompt,
      model: p.model ?? '',
      width: size.width,
      height: size.height,
      seed: p.seed ?? 0,
      steps: p.steps ?? 0,
      cfg_scale: p.cfg_scale ?? 0,
      sampler: p.sampler ?? String(p.fields['Sampler'] ?? ''),
      scheduler: p.scheduler,
    });
    this.insertRows([row]);
    return toRecord(row);
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

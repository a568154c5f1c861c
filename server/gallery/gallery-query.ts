// Turns a GalleryQuery into SQL: filters, the FTS5 match expression, and the keyset cursor over
// (created_at DESC, id DESC). Keyset instead of OFFSET keeps deep pages as fast as the first one.
import { EaselError } from '../protocol/errors.js';
import type { GalleryQuery } from '../protocol/gallery.js';

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export interface Cursor {
  createdAt: number;
  id: string;
}

/** Opaque to clients: base64url of `[created_at_ms, id]`. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') {
      return { createdAt: v[0] as number, id: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new EaselError('invalid_params', 'cursor: not a cursor this server issued', { field: 'cursor' });
}

/**
 * An FTS5 expression from free text: every word becomes a quoted prefix term, all ANDed, so user
 * input can never be FTS syntax (no column filters, NEAR, or unbalanced quotes).
 *
 * @example ftsQuery('red cat"') // '"red"* "cat"""*'
 */
export function ftsQuery(search: string): string | undefined {
  const terms = search
    .split(/\s+/u)
    .map((t) => t.trim())
    .filter((t) => /[\p{L}\p{N}]/u.test(t));
  if (terms.length === 0) return undefined;
  return terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' ');
}

/** Start (inclusive) of a date bound in ms; a bare date means 00:00 UTC. */
function dateStart(value: string): number {
  return Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
}

/** End (exclusive) of a date bound: a bare date includes its whole day. */
function dateEnd(value: string): number {
  return DATE_ONLY.test(value) ? Date.parse(`${value}T00:00:00Z`) + DAY_MS : Date.parse(value) + 1;
}

export interface CompiledQuery {
  sql: string;
  params: Array<string | number>;
  limit: number;
}

/**
 * SELECT over `images` for one page (fetching limit + 1 rows to know whether a next page exists).
 * `matchDrives`: start a search from its FTS hits (few hits) rather than from the date index.
 */
export function compileQuery(q: GalleryQuery, columns: string, matchDrives = true): CompiledQuery {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (q.task !== undefined) {
    where.push('task = ?');
    params.push(q.task);
  }
  if (q.model !== undefined) {
    where.push('model = ?');
    params.push(q.model);
  }
  if (q.favorite !== undefined) where.push(q.favorite ? 'favorite = 1' : 'favorite = 0');
  if (q.date_from !== undefined) {
    where.push('created_at >= ?');
    params.push(dateStart(q.date_from));
  }
  if (q.date_to !== undefined) {
    where.push('created_at < ?');
    params.push(dateEnd(q.date_to));
  }
  const ranges: Array<[number | undefined, string]> = [
    [q.min_width, 'width >= ?'],
    [q.max_width, 'width <= ?'],
    [q.min_height, 'height >= ?'],
    [q.max_height, 'height <= ?'],
  ];
  for (const [v, clause] of ranges) {
    if (v === undefined) continue;
    where.push(clause);
    params.push(v);
  }
  const match = q.search !== undefined ? ftsQuery(q.search) : undefined;
  if (match !== undefined) {
    // `+seq` hides the rowid from the planner, which then walks the page index instead.
    where.push(`${matchDrives ? 'seq' : '+seq'} IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)`);
    params.push(match);
  }
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    where.push('(created_at, id) < (?, ?)');
    params.push(c.createdAt, c.id);
  }
  const limit = q.limit;
  const sql =
    `SELECT ${columns} FROM images` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
  return { sql, params, limit };
}

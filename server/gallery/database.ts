// The SQLite handle for gallery.db. This folder is the only code that imports better-sqlite3; every
// store (images, jobs, drive state) receives the handle from here and declares its own schema steps.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/** Opens (creating if needed) the database file with the pragmas every store relies on. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL lets readers (gallery pages) run while a job result is being written.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * Applies the schema steps of one store that this database has not seen yet, in order, each in a
 * transaction. Steps are append-only: never edit a released step, add a new one.
 *
 * @example applySchema(db, 'images', ['CREATE TABLE images (...)', 'CREATE INDEX ...'])
 */
export function applySchema(db: Db, name: string, steps: readonly string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE name = ?').get(name) as { version: number } | undefined;
  const done = row?.version ?? 0;
  for (let i = done; i < steps.length; i++) {
    db.transaction(() => {
      db.exec(steps[i]!);
      db.prepare('INSERT INTO schema_versions (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version').run(name, i + 1);
    })();
  }
}

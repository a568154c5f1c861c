// The registry's memory of what it has read from each model file (hashes, family, metadata),
// keyed by absolute path and valid while size and mtime are unchanged, kept in one JSON file in
// DATA_DIR so a restart does not rehash gigabytes. Writes are atomic (temp file + rename) and
// batched; a corrupt or foreign file is ignored and rebuilt.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ModelFileMetadata } from '../protocol/actions.js';

export interface CachedFile {
  size: number;
  mtimeMs: number;
  family?: string;
  metadata?: ModelFileMetadata;
  declaredHash?: string;
  sha256?: string;
  addnetSha256?: string | null;
}

const VERSION = 1;
const SAVE_DELAY_MS = 500;

export class HashCache {
  private readonly entries = new Map<string, CachedFile>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  /** `path` undefined keeps the cache in memory only. */
  constructor(private readonly path?: string) {
    if (path && existsSync(path)) {
      try {
        const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: number; files?: Record<string, CachedFile> };
        if (parsed.version === VERSION && parsed.files) for (const [k, v] of Object.entries(parsed.files)) this.entries.set(k, v);
      } catch {
        // A broken cache costs a rehash, nothing more.
      }
    }
  }

  /** The entry for a file when its size and mtime still match. */
  get(path: string, size: number, mtimeMs: number): CachedFile | undefined {
    const e = this.entries.get(path);
    return e && e.size === size && e.mtimeMs === mtimeMs ? e : undefined;
  }

  /** Merges fields into the entry (starting fresh when size or mtime changed). */
  update(path: string, size: number, mtimeMs: number, fields: Omit<CachedFile, 'size' | 'mtimeMs'>): CachedFile {
    const e = { ...(this.get(path, size, mtimeMs) ?? { size, mtimeMs }), ...fields };
    this.entries.set(path, e);
    this.scheduleSave();
    return e;
  }

  /** Drops entries of files no longer present. */
  retain(paths: ReadonlySet<string>): void {
    let dropped = false;
    for (const k of this.entries.keys()) {
      if (!paths.has(k)) {
        this.entries.delete(k);
        dropped = true;
      }
    }
    if (dropped) this.scheduleSave();
  }

  private scheduleSave(): void {
    if (!this.path || this.saveTimer || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes the cache a last time; later updates stay in memory (the data folder may be gone). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Writes the cache now. */
  flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const path = this.path;
    if (!path) return Promise.resolve();
    const body = JSON.stringify({ version: VERSION, files: Object.fromEntries(this.entries) });
    this.saving = this.saving.then(async () => {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, path);
    }).catch(() => undefined);
    return this.saving;
  }
}

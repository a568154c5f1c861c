// The model registry: scans $MODELS_DIR (each type has its folder; names are paths relative to
// it, so `model: "sd15/v1-5.safetensors"` works, and nothing outside it is listed), adds what
// the files say about themselves (family, metadata: header only, read inline) and their hashes
// (sha256, A1111 short hash, LoRA hash: whole-file reads, done one at a time in the background
// and cached by path + size + mtime in DATA_DIR). A listing never waits for a hash: unknown
// hashes are null with `hash_pending` and a `models:changed` follows once they are known.
// A watcher (debounced) and explicit rescans (after a download) report changes the same way.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ModelEntry, ModelType } from '../protocol/actions.js';
import { hashModelFile, loraShortHashOf, type FileHashes } from '../../native/models/file-hashes.js';
import { MODEL_FILE_EXT, MODEL_FOLDERS } from './folders.js';
import { FOLDER_MODEL_TYPES, scanModelFolders } from './model-folders.js';
import { HashCache } from './hash-cache.js';
import { readModelFileInfo, type ModelFileInfo } from './model-info.js';

export { MODEL_FOLDERS } from './folders.js';

const MAX_DEPTH = 3;
const DEFAULT_DEBOUNCE_MS = 1000;

interface ScannedFile {
  path: string;
  name: string;
  type: ModelType;
  size: number;
  mtimeMs: number;
}

async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a missing folder just means no models of that type
  }
  for (const e of entries) {
    // Hidden files include downloads in progress (`.<name>.part`).
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    // Symlinks are skipped on purpose: a link could point outside the models folder.
    if (e.isDirectory() && depth < MAX_DEPTH) await walk(full, depth + 1, out);
    else if (e.isFile() && MODEL_FILE_EXT.test(e.name)) out.push(full);
  }
}

async function scan(modelsDir: string, type?: ModelType): Promise<ScannedFile[]> {
  const types = type ? [type] : (Object.keys(MODEL_FOLDERS) as ModelType[]);
  const out: ScannedFile[] = [];
  for (const t of types) {
    const root = join(modelsDir, MODEL_FOLDERS[t]);
    if (FOLDER_MODEL_TYPES.has(t)) {
      for (const f of await scanModelFolders(root)) out.push({ ...f, type: t });
      continue;
    }
    const files: string[] = [];
    await walk(root, 0, files);
    for (const f of files) {
      const s = await stat(f).catch(() => undefined);
      if (s) out.push({ path: f, name: relative(root, f).split(sep).join('/'), type: t, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  return out.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/**
 * Lists the models under `modelsDir` by name, type and size only (no hashes, no cache).
 *
 * @example await listModels('./models', 'lora') // [{ name: 'detail.safetensors', type: 'lora', size_bytes: 151_000_000 }]
 */
export async function listModels(modelsDir: string, type?: ModelType): Promise<ModelEntry[]> {
  return (await scan(modelsDir, type)).map((f) => ({ name: f.name, type: f.type, size_bytes: f.size }));
}

export interface RegistryOptions {
  modelsDir: string;
  /** The JSON cache file (e.g. DATA_DIR/model-cache.json); undefined keeps it in memory. */
  cachePath?: string;
  /** Called (debounced) when models appeared, vanished, changed or got their hashes. */
  onChange?: () => void;
  /** Injected in tests to count reads; default hashModelFile. */
  hashFile?: (path: string) => Promise<FileHashes>;
  readInfo?: (path: string) => Promise<ModelFileInfo>;
  debounceMs?: number;
  onError?: (err: unknown, path: string) => void;
}

export class ModelRegistry {
  private readonly cache: HashCache;
  private readonly hashFile: (path: string) => Promise<FileHashes>;
  private readonly readInfo: (path: string) => Promise<ModelFileInfo>;
  private readonly queue = new Map<string, ScannedFile>();
  private draining: Promise<void> | undefined;
  private watcher: FSWatcher | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  private signature = '';
  private closed = false;

  constructor(private readonly opts: RegistryOptions) {
    this.cache = new HashCache(opts.cachePath);
    this.hashFile = opts.hashFile ?? hashModelFile;
    this.readInfo = opts.readInfo ?? readModelFileInfo;
  }

  /**
   * The models (of one type), with whatever is known of their hashes; never waits for hashing.
   *
   * @example (await registry.list('lora')).map((m) => m.lora_hash)
   */
  async list(type?: ModelType): Promise<ModelEntry[]> {
    const files = await scan(this.opts.modelsDir, type);
    const out: ModelEntry[] = [];
    for (const f of files) out.push(await this.entryOf(f));
    if (!type) {
      this.cache.retain(new Set(files.map((f) => f.path)));
      this.signature = signatureOf(files);
    }
    return out;
  }

  /** One model by type and name, or undefined. */
  async find(type: ModelType, name: string): Promise<ModelEntry | undefined> {
    return (await this.list(type)).find((m) => m.name === name);
  }

  /** Resolves once every queued hash is computed (tests, scripts). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Lists again and reports a change when the set of files differs from the last listing. */
  async rescan(): Promise<boolean> {
    const before = this.signature;
    await this.list();
    const changed = this.signature !== before;
    if (changed) this.notify();
    return changed;
  }

  /** Watches $MODELS_DIR (recursively) and rescans, debounced, on any change. */
  async start(): Promise<void> {
    await mkdir(this.opts.modelsDir, { recursive: true });
    await this.list();
    try {
      // Hidden paths (`.x.part` downloads in progress, `.cache/` merged LoRAs) change constantly and
      // are never listed, so they do not trigger a rescan.
      this.watcher = watch(this.opts.modelsDir, { recursive: true, persistent: false }, (_event, file) => {
        if (file && String(file).split(/[\\/]/).some((seg) => seg.startsWith('.'))) return;
        this.scheduleRescan();
      });
      this.watcher.on('error', (err) => {
        this.opts.onError?.(err, this.opts.modelsDir);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      // Without a watcher the list still refreshes on every get_models and after downloads.
      this.opts.onError?.(err, this.opts.modelsDir);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.watchTimer);
    clearTimeout(this.notifyTimer);
    this.queue.clear();
    // A hash in progress is not awaited (a large checkpoint takes a minute); its result is dropped.
    await this.cache.close();
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => void this.rescan().catch((err: unknown) => this.opts.onError?.(err, this.opts.modelsDir)), this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.watchTimer.unref();
  }

  private notify(): void {
    if (this.closed || !this.opts.onChange) return;
    clearTimeout(this.notifyTimer);
    this.notifyTimer = setTimeout(() => this.opts.onChange?.(), Math.min(this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS, 250));
    this.notifyTimer.unref();
  }

  private async entryOf(f: ScannedFile): Promise<ModelEntry> {
    let c = this.cache.get(f.path, f.size, f.mtimeMs);
    if (!c || c.family === undefined) {
      const info = await this.readInfo(f.path);
      c = this.cache.update(f.path, f.size, f.mtimeMs, {
        family: info.family,
        metadata: info.metadata,
        ...(info.declaredHash ? { declaredHash: info.declaredHash } : {}),
      });
    }
    const entry: ModelEntry = {
      name: f.name,
      type: f.type,
      size_bytes: f.size,
      modified_at: new Date(f.mtimeMs).toISOString(),
      family: c.family ?? 'unknown',
      sha256: c.sha256 ?? null,
      short_hash: c.sha256 ? c.sha256.slice(0, 10) : null,
    };
    if (f.type === 'lora') entry.lora_hash = c.sha256 ? loraShortHashOf({ sha256: c.sha256, addnetSha256: c.addnetSha256 ?? null }, c.declaredHash) : null;
    if (c.metadata && Object.keys(c.metadata).length > 0) entry.metadata = c.metadata;
    if (!c.sha256) {
      entry.hash_pending = true;
      this.enqueue(f);
    }
    return entry;
  }

  private enqueue(f: ScannedFile): void {
    if (this.closed) return;
    this.queue.set(f.path, f);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Hashes queued files one at a time: on two cores, parallel hashing would only slow generation. */
  private async drain(): Promise<void> {
    while (!this.closed) {
      const next = this.queue.values().next();
      if (next.done) return;
      const f = next.value;
      this.queue.delete(f.path);
      // The file may have changed since it was queued; hash what is there and key it by that.
      const s = await stat(f.path).catch(() => undefined);
      if (!s || this.cache.get(f.path, s.size, s.mtimeMs)?.sha256) continue;
      try {
        const h = await this.hashFile(f.path);
        const after = await stat(f.path).catch(() => undefined);
        // Written to while hashing: the hash is of no single version; the next listing retries.
        if (!after || after.size !== s.size || after.mtimeMs !== s.mtimeMs) continue;
        this.cache.update(f.path, s.size, s.mtimeMs, { sha256: h.sha256, addnetSha256: h.addnetSha256 });
        this.notify();
      } catch (err) {
        this.opts.onError?.(err, f.path);
      }
    }
  }
}

function signatureOf(files: ScannedFile[]): string {
  return files.map((f) => `${f.type}/${f.name}:${f.size}:${f.mtimeMs}`).join('\n');
}

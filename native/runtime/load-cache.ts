// The on-disk load cache: ONNX Runtime's optimized model of one model part (text encoder, UNet,
// VAE) for one shape, saved the first time a session is made and opened directly afterwards, so a
// checkpoint loaded before skips both the weights fill (checkpoint → graph layout) and the graph
// optimizer. See docs/engine-load-cache.md for the design and the safety argument.
//
// Layout of the folder:
//   entries/<id>/model.onnx      the optimized graph (initializers external)
//   entries/<id>/weights.bin     its initializers (≥ 64 KiB each; small constants stay in the graph)
//   entries/<id>/manifest.json   sizes + sha256 of both files, written last (an entry without it is incomplete)
//   locks/<id>.lock              held by the one process building <id>
//   tmp/                         entries being built, renamed into entries/ when complete
//   file-hashes.json             sha256 of checkpoint files by path + size + mtime (A1111's cache.json idea)
//
// Never fails a load: any error writing the cache (disk full, read-only folder) falls back to a
// private, uncached session.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { arch, cpus, hostname, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { sha256File } from '../models/model-hash.js';
import type { EngineSession } from './ort-backend.js';

/**
 * Bump whenever a graph builder (native/models/*-graph.ts, native/graph/) changes the graph it
 * makes: every cached entry of the old graphs then stops matching and is rebuilt.
 */
export const GRAPH_BUILDER_VERSION = 1;
const FORMAT = 'easel-load-cache-v1';

export const DEFAULT_LOAD_CACHE_BYTES = 16 * 1024 ** 3;
/** How long a process waits for another one building the same entry before building privately. */
export const DEFAULT_LOCK_WAIT_MS = 10 * 60 * 1000;
/** A lock older than this is taken over even when its owner looks alive (a hung process). */
const STALE_LOCK_MS = 30 * 60 * 1000;

export const MODEL_FILE = 'model.onnx';
export const WEIGHTS_FILE = 'weights.bin';
const MANIFEST_FILE = 'manifest.json';

/** Everything a cached session depends on. Two loads share an entry only when all of it is equal. */
export interface LoadCacheKey {
  /** sha256 of the checkpoint's content (fileSha256 / folderSha256). */
  checkpoint: string;
  /** Model part label ('unet', 'text-encoder', 'vae-decoder', ...). */
  part: string;
  /**
   * The part's weights: 'base' or the id of a LoRA-merged set / override VAE / extended token
   * table (those ids name the LoRA content hashes and multipliers, see native/lora/merged-cache.ts).
   */
  weights: string;
  /** Graph name and shape key (`b2-64x64-t77`), which fix the static shapes. */
  graph: string;
  precision: string;
  device: string;
  ortVersion: string;
}

export interface LoadCacheOptions {
  dir: string;
  /** Bytes the folder may hold (entries and entries being built); 0 disables the cache. Default 16 GiB. */
  maxBytes?: number;
  lockWaitMs?: number;
  /** Told about every cache write that failed (the load itself went on uncached). */
  onWarning?: (message: string) => void;
}

/** How one part load went: from the cache, built and stored, or built privately (cache unusable). */
export type LoadOutcome = 'hit' | 'miss' | 'bypass';

export interface CachedSessionOps {
  /** Opens a verified entry's model (graph optimizations off: it is already optimized). */
  load(modelPath: string): Promise<EngineSession>;
  /**
   * Makes the session, staging what it needs in `workDir` and saving ORT's optimized model as
   * `outDir/model.onnx` with its initializers in `outDir/weights.bin`.
   */
  build(outDir: string, workDir: string): Promise<EngineSession>;
  /** Makes the session without the cache (the path every load had before the cache). */
  buildPlain(): Promise<EngineSession>;
}

interface Manifest {
  format: string;
  id: string;
  key: LoadCacheKey;
  files: Record<string, { bytes: number; sha256: string }>;
}

interface FileHashEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

export class LoadCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** Counters for tests, logs and benchmarks. */
  readonly stats = { hits: 0, misses: 0, bypasses: 0, corrupt: 0, evicted: 0, waited: 0 };
  private readonly lockWaitMs: number;
  /** Entries whose digests were checked by this process, keyed by id + file sizes + mtimes. */
  private readonly verified = new Set<string>();

  constructor(private readonly opts: LoadCacheOptions) {
    this.dir = resolve(opts.dir);
    this.maxBytes = opts.maxBytes ?? DEFAULT_LOAD_CACHE_BYTES;
    this.lockWaitMs = opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** The entry name of `key`: every field, the graph builder version, the cache format and this CPU. */
  static idOf(key: LoadCacheKey): string {
    // The CPU's name is in the key because ORT's optimizer picks weight layouts per instruction set.
    const host = [arch(), cpus()[0]?.model ?? 'unknown-cpu'];
    const desc = JSON.stringify([FORMAT, GRAPH_BUILDER_VERSION, host, key.checkpoint, key.part, key.weights, key.graph, key.precision, key.device, key.ortVersion]);
    return createHash('sha256').update(desc).digest('hex').slice(0, 40);
  }

  entryDir(key: LoadCacheKey): string {
    return join(this.dir, 'entries', LoadCache.idOf(key));
  }

  private warn(message: string): void {
    this.opts.onWarning?.(message);
  }

  // ---- checkpoint hashes -------------------------------------------------------------------

  /**
   * sha256 of a file's content (models/model-hash.ts, which also serves the infotext's `Model
   * hash` from memory afterwards), remembered across processes in file-hashes.json by absolute
   * path, size and mtime, so a checkpoint is read in full only the first time or after it changes.
   */
  async fileSha256(path: string): Promise<string> {
    const abs = resolve(path);
    const st = await stat(abs);
    const table = await this.readHashTable();
    const known = table[abs];
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
    const sha256 = await sha256File(abs);
    // Re-read before writing: another process may have added hashes meanwhile.
    const latest = await this.readHashTable();
    latest[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
    try {
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `file-hashes.json.${process.pid}.${randomBytes(4).toString('hex')}`);
      await writeFile(tmp, JSON.stringify(latest));
      await rename(tmp, join(this.dir, 'file-hashes.json'));
    } catch (err) {
      this.warn(`cannot remember the hash of ${abs}: ${(err as Error).message}`);
    }
    return sha256;
  }

  /** A checkpoint's content hash: the file's sha256, or for a folder the hash of its files' (path, sha256) list. */
  async checkpointSha256(path: string): Promise<string> {
    const st = await stat(path);
    if (!st.isDirectory()) return this.fileSha256(path);
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.isFile()) files.push(join(d, e.name));
      }
    };
    await walk(path);
    files.sort();
    const h = createHash('sha256');
    for (const f of files) h.update(`${relative(path, f)}\0${await this.fileSha256(f)}\n`);
    return h.digest('hex');
  }

  private async readHashTable(): Promise<Record<string, FileHashEntry>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(this.dir, 'file-hashes.json'), 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, FileHashEntry>) : {};
    } catch {
      return {}; // missing or garbled: hashes are recomputed, never trusted blindly
    }
  }

  // ---- entries -----------------------------------------------------------------------------

  /**
   * The model path of a complete, intact entry, or undefined. An entry that is there but does not
   * verify (truncated, garbled, another key) is removed so it is rebuilt.
   */
  async lookup(key: LoadCacheKey): Promise<string | undefined> {
    const id = LoadCache.idOf(key);
    const dir = join(this.dir, 'entries', id);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
    } catch (err) {
      if (errCode(err) === 'ENOENT') {
        // no manifest: absent, or left half-made by something that is not this code; drop it
        await this.discard(dir).catch(() => undefined);
        return undefined;
      }
      this.stats.corrupt++;
      await this.discard(dir).catch(() => undefined);
      return undefined;
    }
    if (!(await this.verify(id, dir, manifest, key))) {
      this.stats.corrupt++;
      this.warn(`load cache entry ${id} is damaged; rebuilding it`);
      await this.discard(dir).catch(() => undefined);
      return undefined;
    }
    return join(dir, MODEL_FILE);
  }

  /**
   * True when the manifest names this key and both files have the recorded size and sha256. The
   * digest is checked once per process per (size, mtime) of the files: a later change of either
   * file changes its mtime and forces a new check.
   */
  private async verify(id: string, dir: string, manifest: Manifest, key: LoadCacheKey): Promise<boolean> {
    if (manifest?.format !== FORMAT || manifest.id !== id || JSON.stringify(manifest.key) !== JSON.stringify(key)) return false;
    const names = [MODEL_FILE, WEIGHTS_FILE];
    if (!manifest.files || names.some((n) => !manifest.files[n])) return false;
    const stamps: string[] = [];
    for (const n of names) {
      let st;
      try {
        st = await stat(join(dir, n));
      } catch {
        return false;
      }
      if (st.size !== manifest.files[n].bytes) return false;
      stamps.push(`${n}:${st.size}:${st.mtimeMs}:${st.ino}`);
    }
    const stamp = `${id}|${stamps.join('|')}`;
    if (this.verified.has(stamp)) return true;
    for (const n of names) if ((await sha256OfFile(join(dir, n))) !== manifest.files[n].sha256) return false;
    this.verified.add(stamp);
    return true;
  }

  /** Removes an entry atomically (renamed away first, so no reader sees it half deleted). */
  private async discard(dir: string): Promise<void> {
    const away = join(this.dir, 'tmp', `del-${randomBytes(6).toString('hex')}`);
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    try {
      await rename(dir, away);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return;
      throw err;
    }
    await rm(away, { recursive: true, force: true });
  }

  /**
   * The session for `key`: from the cache when a verified entry exists, else built (by `ops.build`)
   * and stored for next time. `expectedBytes` (the part's weight bytes) sizes the room made first.
   */
  async session(key: LoadCacheKey, expectedBytes: number, ops: CachedSessionOps): Promise<{ session: EngineSession; outcome: LoadOutcome }> {
    if (!this.enabled || expectedBytes > this.maxBytes) return this.bypass(ops);
    const hit = await this.tryHit(key, ops).catch(() => undefined);
    if (hit) return { session: hit, outcome: 'hit' };
    const id = LoadCache.idOf(key);
    const lock = await this.acquire(id, key, ops).catch((err: unknown) => {
      this.warn(`load cache unusable (${(err as Error).message}); loading without it`);
      return null;
    });
    if (lock === null) return this.bypass(ops);
    if ('session' in lock) return { session: lock.session, outcome: 'hit' };
    try {
      // The previous holder may have finished this entry while we waited for the lock.
      const again = await this.tryHit(key, ops).catch(() => undefined);
      if (again) return { session: again, outcome: 'hit' };
      return await this.build(id, key, expectedBytes, ops);
    } finally {
      await lock.release();
    }
  }

  private async bypass(ops: CachedSessionOps): Promise<{ session: EngineSession; outcome: LoadOutcome }> {
    this.stats.bypasses++;
    return { session: await ops.buildPlain(), outcome: 'bypass' };
  }

  private async tryHit(key: LoadCacheKey, ops: CachedSessionOps): Promise<EngineSession | undefined> {
    const modelPath = await this.lookup(key);
    if (!modelPath) return undefined;
    const dir = join(modelPath, '..');
    let session: EngineSession;
    try {
      session = await ops.load(modelPath);
    } catch (err) {
      // ORT refused an entry that verified (e.g. evicted by another process mid-load): rebuild.
      this.warn(`cannot open cached ${LoadCache.idOf(key)}: ${(err as Error).message}`);
      await this.discard(dir).catch(() => undefined);
      return undefined;
    }
    const now = new Date();
    await utimes(join(dir, MANIFEST_FILE), now, now).catch(() => undefined); // LRU order
    this.stats.hits++;
    return session;
  }

  /**
   * Takes `locks/<id>.lock`. While another live process holds it, waits; when that process's entry
   * appears meanwhile, returns the session opened from it. After lockWaitMs: null (build privately).
   */
  private async acquire(id: string, key: LoadCacheKey, ops: CachedSessionOps): Promise<{ release(): Promise<void> } | { session: EngineSession } | null> {
    const locks = join(this.dir, 'locks');
    await mkdir(locks, { recursive: true });
    const path = join(locks, `${id}.lock`);
    const deadline = Date.now() + this.lockWaitMs;
    let waited = false;
    for (;;) {
      try {
        const h = await open(path, 'wx');
        await h.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }));
        await h.close();
        if (waited) this.stats.waited++;
        return { release: () => unlink(path).catch(() => undefined) };
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
      }
      if (await this.lockIsStale(path)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      waited = true;
      const hit = await this.tryHit(key, ops).catch(() => undefined);
      if (hit) {
        this.stats.waited++;
        return { session: hit };
      }
      if (Date.now() > deadline) return null;
      await sleep(200);
    }
  }

  private async lockIsStale(path: string): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      if (Date.now() - st.mtimeMs > STALE_LOCK_MS) return true;
      const owner = JSON.parse(text) as { pid?: number; host?: string };
      return owner.host === hostname() && typeof owner.pid === 'number' && !pidAlive(owner.pid);
    } catch (err) {
      // gone (released meanwhile) → retry at once; half-written by its owner → not stale yet
      return errCode(err) === 'ENOENT';
    }
  }

  private async build(id: string, key: LoadCacheKey, expectedBytes: number, ops: CachedSessionOps): Promise<{ session: EngineSession; outcome: LoadOutcome }> {
    let tmp: string | undefined;
    try {
      await this.makeRoom(expectedBytes);
      const free = await statfs(this.dir);
      // The optimized model plus the staged graph-layout weights sit side by side during the build.
      if (free.bavail * free.bsize < expectedBytes * 2.1) throw Object.assign(new Error('not enough free disk space for the load cache'), { code: 'ENOSPC' });
      tmp = join(this.dir, 'tmp', `${id}.${process.pid}.${randomBytes(4).toString('hex')}`);
      await mkdir(join(tmp, 'work'), { recursive: true });
    } catch (err) {
      if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      this.warn(`load cache: cannot prepare ${id} (${(err as Error).message}); loading without it`);
      return this.bypass(ops);
    }
    let session: EngineSession;
    try {
      session = await ops.build(tmp, join(tmp, 'work'));
    } catch (err) {
      // The cached build failed (disk full while ORT saved, ...): the plain path decides.
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      this.warn(`load cache: building ${id} failed (${(err as Error).message}); loading without it`);
      return this.bypass(ops);
    }
    this.stats.misses++;
    try {
      await rm(join(tmp, 'work'), { recursive: true, force: true });
      await this.finish(id, key, tmp);
    } catch (err) {
      this.warn(`load cache: cannot store ${id} (${(err as Error).message})`);
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
    return { session, outcome: 'miss' };
  }

  /** Digests the files, writes the manifest last and renames the entry into place. */
  private async finish(id: string, key: LoadCacheKey, tmp: string): Promise<void> {
    const files: Manifest['files'] = {};
    // ORT writes no weights file when every initializer is under the external-data threshold (a
    // small graph such as a tiny model's UNet context graph); an empty one keeps the layout uniform.
    const weights = join(tmp, WEIGHTS_FILE);
    if (!(await stat(weights).catch(() => undefined))) await writeFile(weights, new Uint8Array(0));
    for (const n of [MODEL_FILE, WEIGHTS_FILE]) {
      const p = join(tmp, n);
      files[n] = { bytes: (await stat(p)).size, sha256: await sha256OfFile(p) };
    }
    const manifest: Manifest = { format: FORMAT, id, key, files };
    const mh = await open(join(tmp, MANIFEST_FILE), 'w');
    try {
      await mh.writeFile(JSON.stringify(manifest, null, 1));
      await mh.sync();
    } finally {
      await mh.close();
    }
    const dest = join(this.dir, 'entries', id);
    await mkdir(join(this.dir, 'entries'), { recursive: true });
    try {
      await rename(tmp, dest);
    } catch (err) {
      // Someone else's entry is already in place (a private builder that outlived our wait).
      if (errCode(err) === 'ENOTEMPTY' || errCode(err) === 'EEXIST') return;
      throw err;
    }
  }

  // ---- size bound --------------------------------------------------------------------------

  /** Bytes on disk: entries and entries being built, each inode counted once. */
  async usage(): Promise<number> {
    return (await this.scan()).total;
  }

  /** Every entry with its size and last use (manifest mtime), and the total including builds in progress. */
  private async scan(): Promise<{ total: number; entries: { dir: string; lastUsed: number }[] }> {
    let total = 0;
    const entries: { dir: string; lastUsed: number }[] = [];
    const sizeOf = async (d: string): Promise<{ bytes: number; manifestMtime: number }> => {
      let bytes = 0;
      let manifestMtime = 0;
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = join(d, e.name);
        if (e.isDirectory()) {
          bytes += (await sizeOf(p)).bytes;
          continue;
        }
        const st = await stat(p).catch(() => undefined);
        if (!st) continue;
        bytes += st.size;
        if (e.name === MANIFEST_FILE) manifestMtime = st.mtimeMs;
      }
      return { bytes, manifestMtime };
    };
    const entriesDir = join(this.dir, 'entries');
    for (const name of await readdir(entriesDir).catch(() => [] as string[])) {
      const dir = join(entriesDir, name);
      const { bytes, manifestMtime } = await sizeOf(dir);
      total += bytes;
      entries.push({ dir, lastUsed: manifestMtime });
    }
    // entries being built by other processes take room too
    total += (await sizeOf(join(this.dir, 'tmp'))).bytes;
    return { total, entries };
  }

  /** Deletes least recently used entries until `incoming` more bytes fit. */
  async makeRoom(incoming: number): Promise<void> {
    let { total, entries } = await this.scan();
    entries.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of entries) {
      if (total + incoming <= this.maxBytes) break;
      await this.discard(e.dir);
      this.stats.evicted++;
      ({ total } = await this.scan());
    }
  }
}

/** The cache configured by LOAD_CACHE_DIR / LOAD_CACHE_MAX_MB (0 = off), with `defaultDir` when unset. */
export function loadCacheFromEnv(defaultDir: string, env: NodeJS.ProcessEnv = process.env, onWarning?: (m: string) => void): LoadCache | undefined {
  const mb = env.LOAD_CACHE_MAX_MB;
  let maxBytes = DEFAULT_LOAD_CACHE_BYTES;
  if (mb !== undefined && mb !== '') {
    const n = Number(mb);
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`LOAD_CACHE_MAX_MB must be a number of MiB ≥ 0, got "${mb}"`);
    maxBytes = Math.floor(n * 1024 * 1024);
  }
  if (maxBytes === 0) return undefined;
  return new LoadCache({ dir: env.LOAD_CACHE_DIR || defaultDir || join(tmpdir(), 'easel-load-cache'), maxBytes, onWarning });
}

const shared = new Map<string, LoadCache | undefined>();

/**
 * loadCacheFromEnv, made once per process and folder (the cache remembers which entries it has
 * verified, so a model switched back to is not digested again).
 */
export function sharedLoadCache(defaultDir: string, onWarning?: (m: string) => void): LoadCache | undefined {
  const k = `${process.env.LOAD_CACHE_DIR ?? ''}|${process.env.LOAD_CACHE_MAX_MB ?? ''}|${defaultDir}`;
  if (!shared.has(k)) shared.set(k, loadCacheFromEnv(defaultDir, process.env, onWarning));
  return shared.get(k);
}

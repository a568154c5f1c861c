// Sessions of one model part (text encoder, UNet, VAE decoder, ...) keyed by request shape. Each
// session holds its own copy of the weights, so the cache is small (LRU, default 2 per part) and
// evicts the least recently used shape; a session that is running is disposed only once its runs
// finish. Concurrent requests for the same shape share one creation.
import { EngineError } from './engine-error.js';
import type { EngineSession } from './ort-backend.js';

interface Entry {
  session: Promise<EngineSession>;
  inFlight: number;
  evicted: boolean;
}

export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private disposed = false;

  constructor(private readonly maxEntries = 2) {
    if (maxEntries < 1) throw new RangeError('SessionCache needs room for at least one session');
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Runs `fn` with the session for `key`, creating it with `create` on a miss. */
  async use<T>(key: string, create: () => Promise<EngineSession>, fn: (session: EngineSession) => Promise<T>): Promise<T> {
    if (this.disposed) throw new EngineError('disposed', 'model was disposed');
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // re-insert: Map order is the LRU order
      this.entries.set(key, entry);
    } else {
      // Make room first: an idle session is freed before the new one's weights are loaded, so a
      // one-session cache never holds two copies of the weights (a running one goes when it ends).
      this.evict(this.maxEntries - 1);
      entry = { session: create(), inFlight: 0, evicted: false };
      this.entries.set(key, entry);
      entry.session.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    entry.inFlight++;
    try {
      return await fn(await entry.session);
    } finally {
      entry.inFlight--;
      if (entry.evicted && entry.inFlight === 0) await release(entry);
    }
  }

  /** Evicts least recently used sessions until at most `keep` remain. */
  private evict(keep: number): void {
    while (this.entries.size > keep) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      entry.evicted = true;
      if (entry.inFlight === 0) void release(entry);
    }
  }

  /** Releases every session; later calls fail with code `disposed`. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.clear();
  }

  /** Releases every session (each once its running calls finish); later calls create new ones. */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map((e) => {
        e.evicted = true;
        return e.inFlight === 0 ? release(e) : Promise.resolve();
      }),
    );
  }
}

async function release(entry: Entry): Promise<void> {
  try {
    await (await entry.session).dispose();
  } catch {
    // a session that failed to be created has nothing to release
  }
}

// Gallery calls for the UI: pages from the server when connected (and copied into IndexedDB), from
// the IndexedDB copy when not; favorites and deletes applied locally at once and sent now or, when
// offline, queued in IndexedDB and replayed on reconnect; thumbnails and favorites' full images
// kept as blobs for offline use; live `gallery:new` / `gallery:changed` relayed as DOM events.
import { filterAndSort, type GalleryFilter } from '../logic/gallery-filter.js';
import { batchForReplay, effectiveFavorite, mergeOp, pendingDeletes, type PendingOp } from '../logic/pending-ops.js';
import type { GalleryDb } from '../storage/gallery-db.js';
import type { ConnectionManager } from './connection.js';
import { EaselClientError } from './errors.js';
import { downloadZip, fetchFile, fileUrl, type RestTarget } from './http.js';
import type { GalleryImage } from './protocol.js';

export interface GalleryPageResult {
  items: GalleryImage[];
  nextCursor: string | null;
  /** Where the page came from: the UI says "offline copy" for `cache`. */
  source: 'server' | 'cache';
}

export interface GalleryEventMap {
  /** New images (live from the server). */
  new: CustomEvent<GalleryImage[]>;
  /** Images changed or deleted (by this client, another one, or a replay). */
  changed: CustomEvent<{ updated: GalleryImage[]; deleted: string[] }>;
  /** The pending offline queue changed length. */
  pending: CustomEvent<number>;
  /** Connected and offline changes replayed: time to reload from the server. */
  synced: CustomEvent<number>;
}

const CACHE_CURSOR = 'cache:';
/** Parallel blob downloads: enough to fill a screen quickly without starving the socket. */
const MAX_PARALLEL_FETCHES = 6;

/** The connection dropped under a request: the change is kept for replay instead of failing. */
function isConnectionLoss(err: unknown): boolean {
  return err instanceof EaselClientError && (err.code === 'offline' || err.code === 'timeout' || err.code === 'network');
}

export class GalleryService extends EventTarget {
  private readonly thumbUrls = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<string | null>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private pending: PendingOp[] = [];
  private pendingLoaded: Promise<void>;

  constructor(
    private readonly conn: ConnectionManager,
    private readonly db: GalleryDb,
    private readonly rest: () => RestTarget,
  ) {
    super();
    this.pendingLoaded = this.db.pendingOps().then(
      (ops) => void (this.pending = ops),
      () => undefined,
    );
    conn.on('gallery:new', (e) => void this.onNew(e.images));
    conn.on('gallery:changed', (e) => void this.onChanged(e.updated ?? [], e.deleted ?? []));
    conn.addEventListener('state', () => {
      if (conn.state !== 'connected') return;
      void this.replayPending()
        .catch(() => 0)
        .then((n) => this.emit('synced', n));
    });
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * One page of the gallery, newest first.
   *
   * @example const first = await gallery.page({ favorite: true }); const next = await gallery.page({ favorite: true }, first.nextCursor)
   */
  async page(filter: GalleryFilter, cursor: string | null = null, limit = 60): Promise<GalleryPageResult> {
    await this.pendingLoaded;
    const fromCache = cursor?.startsWith(CACHE_CURSOR) ?? false;
    if (this.conn.state === 'connected' && !fromCache) {
      try {
        const query = { ...filter, limit, ...(cursor ? { cursor } : {}) };
        const res = await this.conn.request('get_gallery', query, { queue: false });
        void this.db.putImages(res.items).catch(() => undefined);
        void this.keepFavoritesOffline(res.items);
        return { items: this.withPending(res.items), nextCursor: res.next_cursor, source: 'server' };
      } catch (err) {
        // Lost the connection mid-request: fall through to the offline copy.
        if (!isConnectionLoss(err)) throw err;
      }
    }
    const offset = fromCache ? Number(cursor!.slice(CACHE_CURSOR.length)) || 0 : 0;
    const all = filterAndSort(this.withPending(await this.db.allImages()), filter);
    const items = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? `${CACHE_CURSOR}${offset + limit}` : null;
    return { items, nextCursor: next, source: 'cache' };
  }

  /** Favorite or unfavorite: shown at once, sent now or replayed after reconnect. */
  async setFavorite(img: GalleryImage, favorite: boolean): Promise<void> {
    await this.db.setFavorite(img.id, favorite);
    const updated = { ...img, favorite };
    this.emit('changed', { updated: [updated], deleted: [] });
    if (this.conn.state === 'connected') {
      try {
        const res = await this.conn.request('update_image', { id: img.id, favorite }, { queue: false });
        await this.db.putImages([res.image]);
        if (favorite) void this.keepFavoritesOffline([res.image]);
        return;
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
      }
    }
    await this.enqueue({ kind: 'favorite', id: img.id, favorite, at: Date.now() });
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteImages(ids);
    for (const id of ids) this.revokeThumb(id);
    this.emit('changed', { updated: [], deleted: [...ids] });
    if (this.conn.state === 'connected') {
      try {
        await this.conn.request('delete_images', { ids: [...ids] }, { queue: false });
        return;
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
      }
    }
    for (const id of ids) await this.enqueue({ kind: 'delete', id, at: Date.now() });
  }

  /** Sends the changes made offline, oldest first; returns how many were applied. */
  async replayPending(): Promise<number> {
    await this.pendingLoaded;
    if (this.pending.length === 0 || this.conn.state !== 'connected') return 0;
    const ops = this.pending;
    let applied = 0;
    for (const batch of batchForReplay(ops)) {
      try {
        if (batch.kind === 'favorite') {
          const res = await this.conn.request('update_image', { id: batch.id, favorite: batch.favorite }, { queue: false });
          await this.db.putImages([res.image]);
          this.emit('changed', { updated: [res.image], deleted: [] });
        } else {
          await this.conn.request('delete_images', { ids: batch.ids }, { queue: false });
        }
        applied++;
      } catch (err) {
        // An image deleted elsewhere meanwhile cannot be favorited: drop that change, keep going.
        if (err instanceof EaselClientError && err.code === 'not_found') continue;
        throw err;
      }
    }
    this.pending = [];
    await this.db.setPendingOps([]);
    this.emit('pending', 0);
    return applied;
  }

  /** An object URL of the thumbnail (IndexedDB first, then the signed URL), or null offline. */
  thumbnail(img: GalleryImage): Promise<string | null> {
    const known = this.thumbUrls.get(img.id);
    if (known) return Promise.resolve(known);
    let p = this.inflight.get(img.id);
    if (!p) {
      p = this.loadThumb(img).finally(() => this.inflight.delete(img.id));
      this.inflight.set(img.id, p);
    }
    return p;
  }

  /** The full image: the offline copy of a favorite when there is one, else the signed URL. */
  async fullImageUrl(img: GalleryImage): Promise<string> {
    const blob = await this.db.getFull(img.id).catch(() => undefined);
    if (blob) return URL.createObjectURL(blob);
    return fileUrl(this.rest().serverUrl, img.url);
  }

  async zip(ids: readonly string[]): Promise<Blob> {
    return downloadZip(this.rest(), ids);
  }

  /** Typed listener helper. */
  listen<K extends keyof GalleryEventMap>(type: K, fn: (e: GalleryEventMap[K]) => void): () => void {
    const h = fn as EventListener;
    this.addEventListener(type, h);
    return () => this.removeEventListener(type, h);
  }

  private withPending(items: readonly GalleryImage[]): GalleryImage[] {
    if (this.pending.length === 0) return [...items];
    const deleted = pendingDeletes(this.pending);
    return items.filter((i) => !deleted.has(i.id)).map((i) => ({ ...i, favorite: effectiveFavorite(this.pending, i.id, i.favorite) }));
  }

  private async enqueue(op: PendingOp): Promise<void> {
    await this.pendingLoaded;
    this.pending = mergeOp(this.pending, op);
    await this.db.setPendingOps(this.pending);
    this.emit('pending', this.pending.length);
  }

  private async onNew(images: GalleryImage[]): Promise<void> {
    await this.db.putImages(images).catch(() => undefined);
    this.emit('new', images);
  }

  private async onChanged(updated: GalleryImage[], deleted: string[]): Promise<void> {
    await this.db.putImages(updated).catch(() => undefined);
    if (deleted.length) await this.db.deleteImages(deleted).catch(() => undefined);
    this.emit('changed', { updated, deleted });
  }

  private async loadThumb(img: GalleryImage): Promise<string | null> {
    const cached = await this.db.getThumb(img.id).catch(() => undefined);
    let blob = cached;
    if (!blob) {
      if (this.conn.state !== 'connected' && !navigator.onLine) return null;
      blob = await this.limited(() => fetchFile(this.rest().serverUrl, img.thumb_url)).catch(() => undefined);
      if (!blob) return null;
      void this.db.putThumb(img.id, blob).catch(() => false);
    }
    const url = URL.createObjectURL(blob);
    this.thumbUrls.set(img.id, url);
    return url;
  }

  private async keepFavoritesOffline(items: readonly GalleryImage[]): Promise<void> {
    for (const img of items) {
      if (!img.favorite) continue;
      const have = await this.db.getFull(img.id).catch(() => undefined);
      if (have) continue;
      const blob = await this.limited(() => fetchFile(this.rest().serverUrl, img.url)).catch(() => undefined);
      if (blob) await this.db.putFull(img.id, blob).catch(() => false);
    }
  }

  private revokeThumb(id: string): void {
    const url = this.thumbUrls.get(id);
    if (url) URL.revokeObjectURL(url);
    this.thumbUrls.delete(id);
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= MAX_PARALLEL_FETCHES) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private emit<K extends keyof GalleryEventMap>(type: K, detail: GalleryEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

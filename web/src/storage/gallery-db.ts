// The IndexedDB copy of the gallery (the only module that imports idb): image records for offline
// browsing, thumbnails of every image seen, full images of favorites, and the queue of gallery
// changes made offline. Blob writes can hit the storage quota; they fail softly (the image is then
// simply not available offline) instead of breaking the gallery.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { GalleryImage } from '../data/protocol.js';
import type { PendingOp } from '../logic/pending-ops.js';

const DB_NAME = 'easel';
const DB_VERSION = 1;

interface EaselDb extends DBSchema {
  images: { key: string; value: GalleryImage; indexes: { created_at: string } };
  thumbs: { key: string; value: Blob };
  fulls: { key: string; value: Blob };
  pending: { key: number; value: PendingOp & { seq?: number } };
}

export interface StorageUsage {
  usedBytes: number | null;
  quotaBytes: number | null;
}

export class GalleryDb {
  private dbPromise: Promise<IDBPDatabase<EaselDb>> | null = null;

  constructor(private readonly name = DB_NAME) {}

  private db(): Promise<IDBPDatabase<EaselDb>> {
    this.dbPromise ??= openDB<EaselDb>(this.name, DB_VERSION, {
      upgrade(db) {
        const images = db.createObjectStore('images', { keyPath: 'id' });
        images.createIndex('created_at', 'created_at');
        db.createObjectStore('thumbs');
        db.createObjectStore('fulls');
        db.createObjectStore('pending', { autoIncrement: true });
      },
    });
    return this.dbPromise;
  }

  /** Stores (or refreshes) records; existing favorite flags are overwritten by the server's. */
  async putImages(images: readonly GalleryImage[]): Promise<void> {
    if (images.length === 0) return;
    const db = await this.db();
    const tx = db.transaction('images', 'readwrite');
    await Promise.all([...images.map((i) => tx.store.put(i)), tx.done]);
  }

  async getImage(id: string): Promise<GalleryImage | undefined> {
    return (await this.db()).get('images', id);
  }

  /** Every cached record (the offline gallery filters and sorts in memory: 10,000 records are ~10 MB). */
  async allImages(): Promise<GalleryImage[]> {
    return (await this.db()).getAll('images');
  }

  async countImages(): Promise<number> {
    return (await this.db()).count('images');
  }

  async setFavorite(id: string, favorite: boolean): Promise<void> {
    const db = await this.db();
    const img = await db.get('images', id);
    if (img) await db.put('images', { ...img, favorite });
    if (!favorite) await db.delete('fulls', id);
  }

  async deleteImages(ids: readonly string[]): Promise<void> {
    const db = await this.db();
    const tx = db.transaction(['images', 'thumbs', 'fulls'], 'readwrite');
    const ops: Promise<unknown>[] = [];
    for (const id of ids) {
      ops.push(tx.objectStore('images').delete(id), tx.objectStore('thumbs').delete(id), tx.objectStore('fulls').delete(id));
    }
    await Promise.all([...ops, tx.done]);
  }

  async getThumb(id: string): Promise<Blob | undefined> {
    return (await this.db()).get('thumbs', id);
  }

  /** False when the quota is exhausted (the thumbnail is then only shown while online). */
  async putThumb(id: string, blob: Blob): Promise<boolean> {
    return this.putBlob('thumbs', id, blob);
  }

  async getFull(id: string): Promise<Blob | undefined> {
    return (await this.db()).get('fulls', id);
  }

  async putFull(id: string, blob: Blob): Promise<boolean> {
    return this.putBlob('fulls', id, blob);
  }

  async pendingOps(): Promise<PendingOp[]> {
    return (await this.db()).getAll('pending');
  }

  /** Replaces the whole pending queue (it is small and merged in memory by logic/pending-ops.ts). */
  async setPendingOps(ops: readonly PendingOp[]): Promise<void> {
    const db = await this.db();
    const tx = db.transaction('pending', 'readwrite');
    await tx.store.clear();
    await Promise.all([...ops.map((op) => tx.store.add(op)), tx.done]);
  }

  async usage(): Promise<StorageUsage> {
    if (!navigator.storage?.estimate) return { usedBytes: null, quotaBytes: null };
    const e = await navigator.storage.estimate();
    return { usedBytes: e.usage ?? null, quotaBytes: e.quota ?? null };
  }

  /** Asks the browser not to evict the offline gallery under storage pressure. */
  async requestPersistence(): Promise<boolean> {
    return navigator.storage?.persist ? navigator.storage.persist() : false;
  }

  private async putBlob(store: 'thumbs' | 'fulls', id: string, blob: Blob): Promise<boolean> {
    try {
      await (await this.db()).put(store, blob, id);
      return true;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'QuotaExceededError') return false;
      throw err;
    }
  }
}

// Uploading pending gallery images to StableDiffusion_Gallery/YYYY/MM/DD/ on Drive. Each upload
// first looks the image up by its `easel_id` app property, so a sync that died between the upload
// and the local mark (crash, Colab disconnect) finds the file instead of uploading it twice; the
// lookup is repeated before every retry of the upload for the same reason (a POST whose answer
// was lost may still have landed). Folder ids are cached, and a folder being created is shared by
// concurrent uploads, so each folder exists once. After the uploads, the same sync sends the
// pending metadata updates (metadata-sync.ts).
import { readFile } from 'node:fs/promises';
import type { GalleryStore } from '../gallery/gallery-store.js';
import { EaselError, isEaselError } from '../protocol/errors.js';
import { datePath, EASEL_ID, favoriteValue, sha256Hex, toAppProperties } from './app-properties.js';
import type { DriveApi, DriveFile } from './drive-client.js';
import { updateMetadata } from './metadata-sync.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { UploadLedger } from './upload-ledger.js';

/** Runs a task in the IO lane (server/jobs/io-lane.ts), which bounds parallel uploads. */
export type IoRunner = <T>(task: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export interface DriveLocation {
  /** The backup folder's name (DRIVE_FOLDER). */
  folderName: string;
  /** Where it lives: 'root' (My Drive) or a folder id (DRIVE_PARENT_ID). */
  parentId: string;
}

export interface UploaderDeps extends DriveLocation {
  api: DriveApi;
  gallery: Pick<GalleryStore, 'get' | 'filePath'>;
  ledger: UploadLedger;
  retry: Omit<RetryOptions, 'signal'>;
  runIo: IoRunner;
}

export type UploadOutcome = 'uploaded' | 'found' | 'gone';

export interface SyncResult {
  uploaded: number;
  /** Already on Drive (an earlier interrupted sync): marked without uploading. */
  found: number;
  /** Metadata updates sent (favourites, deletions). */
  updated: number;
  /** The first error that stopped the sync; the images left stay pending. */
  error?: EaselError;
}

export class DriveUploader {
  private readonly folders = new Map<string, Promise<string>>();

  constructor(private readonly deps: UploaderDeps) {}

  private retried<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, { ...this.deps.retry, ...(signal ? { signal } : {}) });
  }

  /** Finds or creates one folder level, once per process (the promise is shared while in flight). */
  private folder(key: string, name: string, parent: () => Promise<string>): Promise<string> {
    let p = this.folders.get(key);
    if (!p) {
      p = (async () => {
        const parentId = await parent();
        // Every attempt looks before it creates, so a create whose answer was lost is not repeated.
        return (await this.retried(async () => (await this.deps.api.findFolder(name, parentId)) ?? (await this.deps.api.createFolder(name, parentId)))).id;
      })();
      this.folders.set(key, p);
      p.catch(() => this.folders.delete(key));
    }
    return p;
  }

  /** The id of StableDiffusion_Gallery/<parts...>, creating what is missing. */
  ensureFolder(parts: readonly string[]): Promise<string> {
    const { folderName, parentId } = this.deps;
    let chain: () => Promise<string> = () => this.folder(`/${folderName}`, folderName, () => Promise.resolve(parentId));
    let key = `/${folderName}`;
    for (const part of parts) {
      const parent = chain;
      const k = `${key}/${part}`;
      chain = () => this.folder(k, part, parent);
      key = k;
    }
    return chain();
  }

  /** Forgets cached folder ids (a folder was deleted on Drive, or another account connected). */
  resetFolders(): void {
    this.folders.clear();
  }

  /** Uploads one image unless Drive already has it; marks it uploaded either way. */
  async uploadOne(imageId: string, signal?: AbortSignal): Promise<UploadOutcome> {
    const { api, gallery, ledger } = this.deps;
    const record = gallery.get(imageId);
    const abs = gallery.filePath(imageId);
    if (!record || !abs) return 'gone';
    const existing = await this.retried(() => api.findByAppProperty(EASEL_ID, record.id), signal);
    if (existing) {
      this.markUploaded(record.id, existing);
      return 'found';
    }
    let png: Buffer;
    try {
      png = await readFile(abs);
    } catch {
      return 'gone'; // deleted while the sync ran; reconcile drops the row
    }
    const parentId = await this.ensureFolder(datePath(record.created_at));
    const name = record.file.slice(record.file.lastIndexOf('/') + 1);
    const meta = { name, parentId, mimeType: 'image/png', description: record.infotext, appProperties: toAppProperties(record, sha256Hex(png)), body: png };
    let attempts = 0;
    let foundOnRetry = false;
    const file = await this.retried(async () => {
      if (attempts++ > 0) {
        const again = await api.findByAppProperty(EASEL_ID, record.id);
        if (again) {
          foundOnRetry = true;
          return again;
        }
      }
      return api.upload(meta);
    }, signal);
    this.markUploaded(record.id, file);
    return foundOnRetry ? 'found' : 'uploaded';
  }

  /**
   * Records the upload, then compares with the gallery as it is now: a favourite toggled or an
   * image deleted while the upload ran (no ledger row yet, so nothing was marked) becomes a
   * metadata update, as does a copy found from an earlier run that carries an older favourite.
   */
  private markUploaded(imageId: string, file: DriveFile): void {
    const { gallery, ledger } = this.deps;
    ledger.markUploaded(imageId, file.id);
    const now = gallery.get(imageId);
    if (!now) ledger.noteDeleted([imageId]);
    else if (file.appProperties['favorite'] !== favoriteValue(now.favorite)) ledger.noteChanged([imageId]);
  }

  /**
   * Uploads every pending image through the IO lane, then sends the pending metadata updates. Stops
   * at the first error (a 403 or a dead network fails every later call too); what is left stays
   * pending for the next sync.
   */
  async syncAll(onEach?: () => void): Promise<SyncResult> {
    const result: SyncResult = { uploaded: 0, found: 0, updated: 0 };
    const pending = this.deps.ledger.pending();
    const fail = (err: unknown, what: string): void => {
      const e = isEaselError(err) ? err : new EaselError('drive_error', `${what} failed: ${(err as Error).message}`, { cause: err });
      if (e.code === 'drive_not_found') this.resetFolders();
      result.error ??= e;
    };
    await Promise.all(
      pending.map((p) =>
        this.deps
          .runIo(async (signal) => {
            if (result.error) return;
            const outcome = await this.uploadOne(p.id, signal);
            if (outcome === 'uploaded') result.uploaded++;
            else if (outcome === 'found') result.found++;
            onEach?.();
          })
          .catch((err: unknown) => fail(err, 'upload')),
      ),
    );
    if (result.error) return result;
    // Listed after the uploads: an upload that raced a favourite toggle or a delete added one.
    const updates = this.deps.ledger.pendingUpdates();
    await Promise.all(
      updates.map((u) =>
        this.deps
          .runIo(async (signal) => {
            if (result.error) return;
            if ((await updateMetadata(this.deps, u, signal)) === 'updated') result.updated++;
            onEach?.();
          })
          .catch((err: unknown) => fail(err, 'metadata update')),
      ),
    );
    return result;
  }
}

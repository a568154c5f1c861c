// Restore from Drive: walks StableDiffusion_Gallery/YYYY/MM/DD/, and for every Easel upload whose
// easel_id is not in the gallery downloads the PNG (checked against its easel_sha256), writes it
// and its thumbnail through the gallery store and inserts the row with the original id,
// created_at and favorite. Restoring twice adds nothing: the id is the key. Copies of images
// deleted in Easel (`easel_deleted = '1'` on Drive, or deleted here and not yet synced) are skipped.
import type { GalleryStore } from '../gallery/gallery-store.js';
import { EaselError, isEaselError, type ErrorCode } from '../protocol/errors.js';
import { EASEL_DELETED, EASEL_ID, fromDriveMetadata, sha256Hex } from './app-properties.js';
import { FOLDER_MIME, type DriveApi, type DriveFile } from './drive-client.js';
import type { DriveLocation, IoRunner } from './drive-sync.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { UploadLedger } from './upload-ledger.js';

/** YYYY/MM/DD: deeper folders are not Easel's. */
const MAX_DEPTH = 3;

export interface RestoreDeps extends DriveLocation {
  api: DriveApi;
  gallery: Pick<GalleryStore, 'get' | 'importImage'>;
  ledger: UploadLedger;
  retry: Omit<RetryOptions, 'signal'>;
  runIo: IoRunner;
}

export interface RestoreProgress {
  total: number;
  done: number;
  added: number;
}

export interface RestoreResult extends RestoreProgress {
  /** Copies left on Drive because their image was deleted in Easel (not counted in `total`). */
  skippedDeleted: number;
  /** Ids of the images added, in the order they finished. */
  ids: string[];
  /** Files that could not be restored (bad checksum, download failure); the rest went on. */
  failed: Array<{ id: string; code: ErrorCode; message: string }>;
}

/** Every Easel upload under the backup folder, one per easel_id. */
export async function listBackup(deps: Pick<RestoreDeps, 'api' | 'retry' | 'folderName' | 'parentId'>): Promise<DriveFile[]> {
  const retried = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, deps.retry);
  const root = await retried(() => deps.api.findFolder(deps.folderName, deps.parentId));
  if (!root) return [];
  const byId = new Map<string, DriveFile>();
  const walk = async (folderId: string, depth: number): Promise<void> => {
    const children = await retried(() => deps.api.listChildren(folderId));
    for (const child of children) {
      if (child.mimeType === FOLDER_MIME) {
        if (depth < MAX_DEPTH) await walk(child.id, depth + 1);
      } else {
        const id = child.appProperties[EASEL_ID];
        if (id && !byId.has(id)) byId.set(id, child);
      }
    }
  };
  await walk(root.id, 0);
  return [...byId.values()];
}

/**
 * Restores what the gallery lacks. Throws only when the listing fails; single files that fail are
 * reported in `failed`.
 *
 * @example const r = await restoreFromDrive({ api, gallery, ledger, retry, runIo, folderName, parentId }, (p) => emit(p))
 */
export async function restoreFromDrive(deps: RestoreDeps, onProgress?: (p: RestoreProgress) => void): Promise<RestoreResult> {
  const listed = await listBackup(deps);
  // The ledger check covers a delete made on this server whose mark has not reached Drive yet.
  const files = listed.filter((f) => f.appProperties[EASEL_DELETED] !== '1' && !deps.ledger.isDeleted(f.appProperties[EASEL_ID] ?? ''));
  const result: RestoreResult = { total: files.length, done: 0, added: 0, skippedDeleted: listed.length - files.length, ids: [], failed: [] };
  onProgress?.({ total: result.total, done: 0, added: 0 });
  await Promise.all(
    files.map((file) =>
      deps
        .runIo(async (signal) => {
          const record = fromDriveMetadata(file.appProperties, file.description);
          if (!record || !record.id) return;
          const id = record.id;
          if (deps.gallery.get(id)) {
            deps.ledger.markUploaded(id, file.id);
            return;
          }
          const bytes = await withRetry(() => deps.api.download(file.id), { ...deps.retry, signal });
          const expected = file.appProperties['easel_sha256'];
          if (expected && sha256Hex(bytes) !== expected) throw new EaselError('drive_error', `the Drive copy of ${id} does not match its checksum; it was not restored`);
          if (await deps.gallery.importImage(bytes, { ...record, id })) {
            result.added++;
            result.ids.push(id);
          }
          deps.ledger.markUploaded(id, file.id);
        })
        .catch((err: unknown) => {
          const e = isEaselError(err) ? err : new EaselError('drive_error', (err as Error).message);
          result.failed.push({ id: file.appProperties[EASEL_ID] ?? file.id, code: e.code, message: e.message });
        })
        .finally(() => {
          result.done++;
          onProgress?.({ total: result.total, done: result.done, added: result.added });
        }),
    ),
  );
  return result;
}

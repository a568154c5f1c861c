// Bringing the metadata of Drive copies up to date after their upload: a favourite toggled later
// (files.update with the new `favorite` app property) and an image deleted in Easel (its copy gets
// `easel_deleted = '1'` and a `deleted-` name prefix; it is never deleted or trashed, the backup
// never destroys a user's image). The values sent are read from the gallery when the update runs,
// not when it was queued, so toggling twice sends the final state once. Updates are idempotent
// (a repeated PATCH sets the same values), which is what makes retrying them safe.
import type { GalleryStore } from '../gallery/gallery-store.js';
import { isEaselError } from '../protocol/errors.js';
import { deletedName, EASEL_DELETED, favoriteValue } from './app-properties.js';
import type { DriveApi } from './drive-client.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { PendingUpdate, UploadLedger } from './upload-ledger.js';

export interface MetadataDeps {
  api: DriveApi;
  gallery: Pick<GalleryStore, 'get'>;
  ledger: UploadLedger;
  retry: Omit<RetryOptions, 'signal'>;
}

/**
 * What became of one update: sent; `gone` when the Drive copy no longer exists (purged on Drive:
 * a live image is uploaded again by the next sync, a deleted one needs nothing more); `skipped`
 * when the image left the gallery without a delete_images (reconcile), so there is nothing to say.
 */
export type UpdateOutcome = 'updated' | 'gone' | 'skipped';

const isNotFound = (err: unknown): boolean => isEaselError(err) && err.code === 'drive_not_found';

/**
 * Sends one pending metadata update and clears its mark. A failure other than "file gone" throws
 * and leaves the mark, so the next sync tries again.
 */
export async function updateMetadata(deps: MetadataDeps, update: PendingUpdate, signal?: AbortSignal): Promise<UpdateOutcome> {
  const { api, gallery, ledger } = deps;
  const retried = <T>(fn: () => Promise<T>): Promise<T> => withRetry(fn, { ...deps.retry, ...(signal ? { signal } : {}) });
  try {
    if (update.deleted) {
      // The new name depends on the current one; reading it each attempt keeps a retry whose first
      // PATCH landed from adding the prefix twice.
      await retried(async () => {
        const file = await api.getFile(update.driveFileId);
        return api.updateFile(update.driveFileId, { name: deletedName(file.name), appProperties: { [EASEL_DELETED]: '1' } });
      });
    } else {
      const record = gallery.get(update.imageId);
      if (!record) {
        ledger.updateDone(update.imageId, update.version);
        return 'skipped';
      }
      await retried(() => api.updateFile(update.driveFileId, { appProperties: { favorite: favoriteValue(record.favorite) } }));
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // The copy was purged on Drive: a deleted image is done; a live one uploads again.
    if (update.deleted) ledger.updateDone(update.imageId, update.version);
    else ledger.forget(update.imageId);
    return 'gone';
  }
  ledger.updateDone(update.imageId, update.version);
  return 'updated';
}

// Which gallery images are on Drive, and which Drive copies need their metadata brought up to date:
// the `drive_uploads` table in gallery.db (image id → Drive file id, plus a metadata version pair
// and a deleted flag). An image is pending upload exactly while it has no row here, so a new image
// is pending from the moment its row exists and a failed upload can never lose that mark. A
// metadata update is pending while `meta_version > meta_synced`: every change bumps the version,
// and a finished update records the version it sent, so a change made while an update was in
// flight stays pending. Schema steps go through the gallery's applySchema
// (server/gallery/database.ts); the handle comes from there.
import { applySchema, type Db } from '../gallery/database.js';

export const DRIVE_SCHEMA: readonly string[] = [
  `CREATE TABLE drive_uploads (
     image_id TEXT PRIMARY KEY,
     drive_file_id TEXT NOT NULL,
     uploaded_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Step 2: favourites changed and images deleted after their upload (rows of older databases get
  // the defaults: nothing to update, not deleted).
  `ALTER TABLE drive_uploads ADD COLUMN meta_version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE drive_uploads ADD COLUMN meta_synced INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE drive_uploads ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX drive_uploads_meta_pending ON drive_uploads (image_id) WHERE meta_version > meta_synced;`,
];

export interface PendingImage {
  id: string;
  created_at: number;
}

/** A Drive copy whose metadata lags behind the gallery. */
export interface PendingUpdate {
  imageId: string;
  driveFileId: string;
  /** The version this update brings Drive to; pass it back to `updateDone`. */
  version: number;
  /** The image was deleted in Easel: the Drive copy is to be marked, not changed otherwise. */
  deleted: boolean;
}

const PENDING_UPLOAD_WHERE = 'NOT EXISTS (SELECT 1 FROM drive_uploads d WHERE d.image_id = i.id)';

export class UploadLedger {
  constructor(private readonly db: Db) {
    applySchema(db, 'drive', DRIVE_SCHEMA);
  }

  /** Gallery images without an upload row, oldest first. */
  pending(limit = 1_000_000): PendingImage[] {
    return this.db.prepare(`SELECT i.id, i.created_at FROM images i WHERE ${PENDING_UPLOAD_WHERE} ORDER BY i.created_at, i.id LIMIT ?`).all(limit) as PendingImage[];
  }

  /** Images waiting for their upload (metadata updates not included). */
  pendingCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM images i WHERE ${PENDING_UPLOAD_WHERE}`).get() as { n: number }).n;
  }

  markUploaded(imageId: string, driveFileId: string, at = Date.now()): void {
    this.db.prepare('INSERT INTO drive_uploads (image_id, drive_file_id, uploaded_at) VALUES (?, ?, ?) ON CONFLICT(image_id) DO UPDATE SET drive_file_id = excluded.drive_file_id').run(imageId, driveFileId, at);
  }

  driveFileId(imageId: string): string | undefined {
    return (this.db.prepare('SELECT drive_file_id FROM drive_uploads WHERE image_id = ?').get(imageId) as { drive_file_id: string } | undefined)?.drive_file_id;
  }

  /**
   * Marks uploaded images whose metadata (favourite) changed; images not uploaded yet need nothing,
   * their upload reads the row as it is then. Returns how many were marked.
   */
  noteChanged(imageIds: readonly string[]): number {
    const bump = this.db.prepare('UPDATE drive_uploads SET meta_version = meta_version + 1 WHERE image_id = ? AND deleted = 0');
    return this.db.transaction(() => imageIds.reduce((n, id) => n + bump.run(id).changes, 0))();
  }

  /** Marks uploaded images as deleted in Easel; images never uploaded have no row and need nothing. */
  noteDeleted(imageIds: readonly string[]): number {
    const mark = this.db.prepare('UPDATE drive_uploads SET deleted = 1, meta_version = meta_version + 1 WHERE image_id = ? AND deleted = 0');
    return this.db.transaction(() => imageIds.reduce((n, id) => n + mark.run(id).changes, 0))();
  }

  /** Whether Easel deleted this image after uploading it (restore must not bring it back). */
  isDeleted(imageId: string): boolean {
    return this.db.prepare('SELECT 1 FROM drive_uploads WHERE image_id = ? AND deleted = 1').get(imageId) !== undefined;
  }

  /** Metadata updates Drive has not seen yet, oldest upload first. */
  pendingUpdates(limit = 1_000_000): PendingUpdate[] {
    const rows = this.db
      .prepare('SELECT image_id, drive_file_id, meta_version, deleted FROM drive_uploads WHERE meta_version > meta_synced ORDER BY uploaded_at, image_id LIMIT ?')
      .all(limit) as Array<{ image_id: string; drive_file_id: string; meta_version: number; deleted: number }>;
    return rows.map((r) => ({ imageId: r.image_id, driveFileId: r.drive_file_id, version: r.meta_version, deleted: r.deleted === 1 }));
  }

  pendingUpdateCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM drive_uploads WHERE meta_version > meta_synced').get() as { n: number }).n;
  }

  /** Records that Drive has the metadata as of `version`; a later change stays pending. */
  updateDone(imageId: string, version: number): void {
    this.db.prepare('UPDATE drive_uploads SET meta_synced = ? WHERE image_id = ? AND meta_synced < ?').run(version, imageId, version);
  }

  /** Drops one row (its Drive file is gone): a live image becomes pending upload again. */
  forget(imageId: string): void {
    this.db.prepare('DELETE FROM drive_uploads WHERE image_id = ?').run(imageId);
  }

  /** Forgets every upload (after disconnecting from one Drive and connecting another). */
  clear(): void {
    this.db.prepare('DELETE FROM drive_uploads').run();
  }
}

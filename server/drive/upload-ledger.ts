// Which gallery images are on Drive: the `drive_uploads` table in gallery.db (image id → Drive file
// id). An image is pending exactly while it has no row here, so a new image is pending from the
// moment its row exists and a failed upload can never lose that mark. Schema steps go through the
// gallery's applySchema (server/gallery/database.ts); the handle comes from there.
import { applySchema, type Db } from '../gallery/database.js';

export const DRIVE_SCHEMA: readonly string[] = [
  `CREATE TABLE drive_uploads (
     image_id TEXT PRIMARY KEY,
     drive_file_id TEXT NOT NULL,
     uploaded_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
];

export interface PendingImage {
  id: string;
  created_at: number;
}

export class UploadLedger {
  constructor(private readonly db: Db) {
    applySchema(db, 'drive', DRIVE_SCHEMA);
  }

  /** Gallery images without an upload row, oldest first. */
  pending(limit = 1_000_000): PendingImage[] {
    return this.db
      .prepare('SELECT i.id, i.created_at FROM images i WHERE NOT EXISTS (SELECT 1 FROM drive_uploads d WHERE d.image_id = i.id) ORDER BY i.created_at, i.id LIMIT ?')
      .all(limit) as PendingImage[];
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM images i WHERE NOT EXISTS (SELECT 1 FROM drive_uploads d WHERE d.image_id = i.id)').get() as { n: number }).n;
  }

  markUploaded(imageId: string, driveFileId: string, at = Date.now()): void {
    this.db.prepare('INSERT INTO drive_uploads (image_id, drive_file_id, uploaded_at) VALUES (?, ?, ?) ON CONFLICT(image_id) DO UPDATE SET drive_file_id = excluded.drive_file_id').run(imageId, driveFileId, at);
  }

  driveFileId(imageId: string): string | undefined {
    return (this.db.prepare('SELECT drive_file_id FROM drive_uploads WHERE image_id = ?').get(imageId) as { drive_file_id: string } | undefined)?.drive_file_id;
  }

  /** Forgets every upload (after disconnecting from one Drive and connecting another). */
  clear(): void {
    this.db.prepare('DELETE FROM drive_uploads').run();
  }
}

import { afterEach, describe, expect, it } from 'vitest';
import { tempGallery, type TempGallery } from '../gallery/test/helpers.js';
import { addImage } from './test/helpers.js';
import { UploadLedger } from './upload-ledger.js';

// The drive schema as released before metadata updates (step 1), written out here so that an edit
// to the live step list cannot make this test pass by accident.
const SCHEMA_V1 = `CREATE TABLE drive_uploads (
  image_id TEXT PRIMARY KEY,
  drive_file_id TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL
) WITHOUT ROWID;`;

let gallery: TempGallery | undefined;
afterEach(async () => {
  await gallery?.cleanup();
  gallery = undefined;
});

const driveVersion = (g: TempGallery): number | undefined => (g.db.prepare("SELECT version FROM schema_versions WHERE name = 'drive'").get() as { version: number } | undefined)?.version;

describe('upload ledger', () => {
  it('opens and migrates a database made by the first schema, keeping its uploads', async () => {
    gallery = await tempGallery();
    gallery.db.exec(SCHEMA_V1);
    gallery.db.prepare("INSERT INTO schema_versions (name, version) VALUES ('drive', 1)").run();
    const a = await addImage(gallery, { seed: 1 });
    const b = await addImage(gallery, { seed: 2 });
    gallery.db.prepare('INSERT INTO drive_uploads (image_id, drive_file_id, uploaded_at) VALUES (?, ?, ?)').run(a.id, 'file-a', 1);
    gallery.db.prepare('INSERT INTO drive_uploads (image_id, drive_file_id, uploaded_at) VALUES (?, ?, ?)').run('deleted-long-ago', 'file-old', 0);
    gallery.reopen();

    const ledger = new UploadLedger(gallery.db);
    expect(driveVersion(gallery)).toBe(2);
    expect(ledger.driveFileId(a.id)).toBe('file-a');
    expect(ledger.pending().map((p) => p.id)).toEqual([b.id]);
    // Rows from before the upgrade have nothing to update, and nothing counts as deleted.
    expect(ledger.pendingUpdateCount()).toBe(0);
    expect(ledger.isDeleted('deleted-long-ago')).toBe(false);

    expect(ledger.noteChanged([a.id, b.id])).toBe(1);
    expect(ledger.pendingUpdates()).toEqual([{ imageId: a.id, driveFileId: 'file-a', version: 1, deleted: false }]);
    // Opening again (a restart) runs no step twice and keeps the marks.
    const again = new UploadLedger(gallery.db);
    expect(driveVersion(gallery)).toBe(2);
    expect(again.pendingUpdateCount()).toBe(1);
  });

  it('a change made while an update was in flight stays pending', async () => {
    gallery = await tempGallery();
    const ledger = new UploadLedger(gallery.db);
    const a = await addImage(gallery);
    ledger.markUploaded(a.id, 'file-a');
    ledger.noteChanged([a.id]);
    const [sent] = ledger.pendingUpdates();
    ledger.noteChanged([a.id]); // toggled again before the first update finished
    ledger.updateDone(a.id, sent!.version);
    expect(ledger.pendingUpdates()).toEqual([{ imageId: a.id, driveFileId: 'file-a', version: 2, deleted: false }]);
    ledger.updateDone(a.id, 2);
    expect(ledger.pendingUpdateCount()).toBe(0);
    // An older version arriving late does not reopen it.
    ledger.updateDone(a.id, 1);
    expect(ledger.pendingUpdateCount()).toBe(0);
  });

  it('deletion marks only uploaded images, once, and survives a later markUploaded', async () => {
    gallery = await tempGallery();
    const ledger = new UploadLedger(gallery.db);
    const a = await addImage(gallery, { seed: 1 });
    const b = await addImage(gallery, { seed: 2 });
    ledger.markUploaded(a.id, 'file-a');
    expect(ledger.noteDeleted([a.id, b.id])).toBe(1);
    expect(ledger.noteDeleted([a.id])).toBe(0);
    expect(ledger.noteChanged([a.id])).toBe(0); // a favourite on a deleted image means nothing
    expect(ledger.isDeleted(a.id)).toBe(true);
    expect(ledger.isDeleted(b.id)).toBe(false);
    ledger.markUploaded(a.id, 'file-a2');
    expect(ledger.pendingUpdates()).toEqual([{ imageId: a.id, driveFileId: 'file-a2', version: 1, deleted: true }]);
    ledger.forget(a.id);
    expect(ledger.isDeleted(a.id)).toBe(false);
    expect(ledger.pendingUpdateCount()).toBe(0);
  });
});

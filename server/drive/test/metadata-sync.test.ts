// Favourites toggled and images deleted after their upload reach the Drive copy at the next sync
// (against the fake Drive, through the real googleapis client): the copy is updated or marked
// deleted (never removed), restore into an empty data folder honours both, failures keep the mark.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDrive, type FakeFile } from './fake-drive.js';
import { addImage, driveRig, type DriveRig } from './helpers.js';

const rigs: DriveRig[] = [];
let fake: FakeDrive | undefined;
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.cleanup();
  await fake?.stop();
  fake = undefined;
});

const isPatch = (r: { method: string; path: string }): boolean => r.method === 'PATCH' && r.path.startsWith('/drive/v3/files/');
const isUpload = (r: { method: string; path: string }): boolean => r.method === 'POST' && r.path === '/upload/drive/v3/files';

async function rigOn(shared: FakeDrive): Promise<DriveRig> {
  const r = await driveRig({ fake: shared });
  rigs.push(r);
  return r;
}

function copyOf(id: string): FakeFile {
  const file = fake!.uploads().find((f) => f.appProperties?.['easel_id'] === id);
  if (!file) throw new Error(`no Drive copy of ${id}`);
  return file;
}

/** A gallery of `n` images, all uploaded. */
async function uploaded(n: number): Promise<{ rig: DriveRig; ids: string[] }> {
  fake = await new FakeDrive().start();
  const rig = await rigOn(fake);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await addImage(rig.gallery, { seed: 100 + i }, `#${(0x223344 + i * 0x101010).toString(16)}`)).id);
  await rig.service.sync().done;
  expect(rig.service.status()).toMatchObject({ pending: 0, last_error: null });
  expect(fake.uploads()).toHaveLength(n);
  return { rig, ids };
}

describe('drive metadata updates', () => {
  it('a favourite set after the upload reaches Drive once, and restore brings it back as favourite', async () => {
    const { rig, ids } = await uploaded(2);
    const [fav, plain] = ids as [string, string];
    expect(copyOf(fav).appProperties!['favorite']).toBe('0');

    rig.gallery.store.update(fav, { favorite: true });
    rig.service.noteChanged([fav]);
    expect(rig.service.status().pending).toBe(1);
    expect(rig.statuses.at(-1)!.pending).toBe(1);

    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(copyOf(fav).appProperties!['favorite']).toBe('1');
    expect(copyOf(plain).appProperties!['favorite']).toBe('0');
    // Only the key that changed was sent; the other properties are untouched.
    expect(copyOf(fav).appProperties!['easel_sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(fake!.driveRequests(isPatch)).toHaveLength(1);
    expect(fake!.uploads()).toHaveLength(2);

    await rig.service.sync().done;
    expect(fake!.driveRequests(isPatch)).toHaveLength(1);

    const target = await rigOn(fake!);
    await target.service.restore().done;
    expect(target.service.status().restore).toEqual({ state: 'completed', total: 2, done: 2, added: 2 });
    expect(target.gallery.store.get(fav)!.favorite).toBe(true);
    expect(target.gallery.store.get(plain)!.favorite).toBe(false);
  });

  it('sends the value at sync time: toggling on and off again leaves Drive as it was', async () => {
    const { rig, ids } = await uploaded(1);
    const id = ids[0]!;
    rig.gallery.store.update(id, { favorite: true });
    rig.service.noteChanged([id]);
    rig.gallery.store.update(id, { favorite: false });
    rig.service.noteChanged([id]);
    await rig.service.sync().done;
    expect(copyOf(id).appProperties!['favorite']).toBe('0');
    expect(rig.service.status().pending).toBe(0);
  });

  it('a favourite set before the upload needs no update: the upload carries it', async () => {
    fake = await new FakeDrive().start();
    const rig = await rigOn(fake);
    const img = await addImage(rig.gallery);
    rig.gallery.store.update(img.id, { favorite: true });
    rig.service.noteChanged([img.id]);
    expect(rig.service.status().pending).toBe(1); // the upload, nothing more
    await rig.service.sync().done;
    expect(copyOf(img.id).appProperties!['favorite']).toBe('1');
    expect(fake.driveRequests(isPatch)).toHaveLength(0);
  });

  it('a favourite toggled while its upload runs is sent by the same sync', async () => {
    fake = await new FakeDrive().start();
    const rig = await rigOn(fake);
    const img = await addImage(rig.gallery);
    // The toggle lands after the upload read the row (favorite 0) and before the ledger row exists.
    fake.inject({
      count: 1,
      status: 503,
      match: (r) => {
        if (!isUpload(r)) return false;
        rig.gallery.store.update(img.id, { favorite: true });
        rig.service.noteChanged([img.id]);
        return true;
      },
    });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ pending: 0, last_error: null });
    expect(copyOf(img.id).appProperties!['favorite']).toBe('1');
    expect(fake.driveRequests(isPatch)).toHaveLength(1);
  });

  it('a deleted image is marked on Drive, never removed, and restore leaves it out', async () => {
    const { rig, ids } = await uploaded(3);
    const [gone, keptA, keptB] = ids as [string, string, string];
    const name = copyOf(gone).name;
    const res = await rig.gallery.store.delete([gone]);
    rig.service.noteDeleted(res.deleted);
    expect(rig.service.status().pending).toBe(1);

    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    const copy = copyOf(gone);
    expect(copy.trashed).toBe(false);
    expect(copy.content!.length).toBeGreaterThan(0);
    expect(copy.appProperties!['easel_deleted']).toBe('1');
    expect(copy.name).toBe(`deleted-${name}`);
    expect(fake!.uploads()).toHaveLength(3);
    expect(fake!.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(copyOf(keptA).appProperties!['easel_deleted']).toBeUndefined();

    const patches = fake!.driveRequests(isPatch).length;
    await rig.service.sync().done;
    expect(fake!.driveRequests(isPatch)).toHaveLength(patches);

    const target = await rigOn(fake!);
    await target.service.restore().done;
    expect(target.service.status().restore).toEqual({ state: 'completed', total: 2, done: 2, added: 2 });
    expect(target.gallery.store.get(gone)).toBeUndefined();
    expect(target.gallery.store.get(keptA)).toBeDefined();
    expect(target.gallery.store.get(keptB)).toBeDefined();
    expect(target.gallery.store.count()).toBe(2);
  });

  it('restore on the same server does not bring back a deletion that has not reached Drive yet', async () => {
    const { rig, ids } = await uploaded(2);
    const res = await rig.gallery.store.delete([ids[0]!]);
    rig.service.noteDeleted(res.deleted);
    await rig.service.restore().done;
    expect(rig.service.status().restore).toMatchObject({ state: 'completed', total: 1, added: 0 });
    expect(rig.gallery.store.get(ids[0]!)).toBeUndefined();
  });

  it('an image deleted before its upload is simply no longer pending', async () => {
    fake = await new FakeDrive().start();
    const rig = await rigOn(fake);
    const a = await addImage(rig.gallery, { seed: 1 });
    await addImage(rig.gallery, { seed: 2 });
    expect(rig.service.status().pending).toBe(2);
    const res = await rig.gallery.store.delete([a.id]);
    rig.service.noteDeleted(res.deleted);
    expect(rig.service.status().pending).toBe(1);
    await rig.service.sync().done;
    expect(fake.uploads()).toHaveLength(1);
    expect(fake.uploads()[0]!.appProperties!['easel_id']).not.toBe(a.id);
    expect(fake.driveRequests(isPatch)).toHaveLength(0);
  });

  it('retries 429 and 500 on files.update', async () => {
    const { rig, ids } = await uploaded(2);
    rig.gallery.store.update(ids[0]!, { favorite: true });
    rig.service.noteChanged([ids[0]!]);
    const res = await rig.gallery.store.delete([ids[1]!]);
    rig.service.noteDeleted(res.deleted);
    fake!.inject({ count: 2, status: 429, reason: 'rateLimitExceeded', retryAfter: '2', match: isPatch });
    fake!.inject({ count: 1, status: 500, reason: 'backendError', match: isPatch });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(copyOf(ids[0]!).appProperties!['favorite']).toBe('1');
    expect(copyOf(ids[1]!).appProperties!['easel_deleted']).toBe('1');
    expect(copyOf(ids[1]!).name.startsWith('deleted-deleted-')).toBe(false);
    const statuses = fake!.driveRequests(isPatch).map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    expect(rig.delays.filter((d) => d >= 2000)).toHaveLength(2);
  });

  it('keeps the mark when the update fails, and the next sync (after a restart) sends it', async () => {
    const { rig, ids } = await uploaded(1);
    const id = ids[0]!;
    rig.gallery.store.update(id, { favorite: true });
    rig.service.noteChanged([id]);
    fake!.inject({ count: 50, status: 503, reason: 'backendError', match: isPatch });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'error', pending: 1, last_error: { code: 'drive_unavailable' } });
    expect(copyOf(id).appProperties!['favorite']).toBe('0');

    fake!.faults.splice(0);
    const service = rig.restart();
    expect(service.status().pending).toBe(1);
    await service.sync().done;
    expect(service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(copyOf(id).appProperties!['favorite']).toBe('1');
  });

  it('a 403 on files.update stops the sync with drive_forbidden and keeps the mark', async () => {
    const { rig, ids } = await uploaded(1);
    const res = await rig.gallery.store.delete([ids[0]!]);
    rig.service.noteDeleted(res.deleted);
    fake!.inject({ count: 1, status: 403, reason: 'insufficientFilePermissions', match: isPatch });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'error', pending: 1, last_error: { code: 'drive_forbidden' } });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0 });
    expect(copyOf(ids[0]!).appProperties!['easel_deleted']).toBe('1');
  });

  it('a copy purged on Drive: a favourite change uploads the image again, a deletion is done', async () => {
    const { rig, ids } = await uploaded(2);
    const [fav, gone] = ids as [string, string];
    fake!.files.delete(copyOf(fav).id);
    fake!.files.delete(copyOf(gone).id);
    rig.gallery.store.update(fav, { favorite: true });
    rig.service.noteChanged([fav]);
    const res = await rig.gallery.store.delete([gone]);
    rig.service.noteDeleted(res.deleted);
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', last_error: null, pending: 1 });
    await rig.service.sync().done;
    expect(rig.service.status().pending).toBe(0);
    expect(fake!.uploads()).toHaveLength(1);
    expect(copyOf(fav).appProperties!['favorite']).toBe('1');
  });
});

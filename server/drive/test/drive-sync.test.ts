// Sync against the fake Drive, through the real @googleapis/drive client pointed at it with the
// root URL option: the folder tree, file metadata, idempotency across a crash, retries and the
// errors that stop a sync without losing a pending image.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FOLDER_MIME } from './fake-drive.js';
import { addImage, driveRig, type DriveRig } from './helpers.js';

let rig: DriveRig | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await rig?.cleanup();
  rig = undefined;
});

const isUpload = (r: { method: string; path: string }): boolean => r.method === 'POST' && r.path === '/upload/drive/v3/files';

/** Adds an image as if generated at `iso` (the gallery stamps images with Date.now()). */
async function addImageAt(r: DriveRig, iso: string, seed: number) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(iso));
  try {
    return await addImage(r.gallery, { seed });
  } finally {
    vi.useRealTimers();
  }
}

describe('drive sync', () => {
  it('uploads pending images into YYYY/MM/DD folders created once, with the infotext and app properties', async () => {
    rig = await driveRig();
    const a = await addImageAt(rig, '2026-11-20T23:59:00.000Z', 1);
    const b = await addImageAt(rig, '2026-11-21T08:00:00.000Z', 2);
    const c = await addImageAt(rig, '2026-11-21T09:30:00.000Z', 3);
    await rig.gallery.store.update(c.id, { favorite: true });
    expect(rig.service.status().pending).toBe(3);

    await rig.service.sync().done;

    const status = rig.service.status();
    expect(status).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(status.last_sync_at).not.toBeNull();
    const folderPaths = rig.fake.folders().map((f) => `${rig!.fake.pathOf(f)}/${f.name}`.replace(/^\//, ''));
    expect(folderPaths.sort()).toEqual(['StableDiffusion_Gallery', 'StableDiffusion_Gallery/2026', 'StableDiffusion_Gallery/2026/11', 'StableDiffusion_Gallery/2026/11/20', 'StableDiffusion_Gallery/2026/11/21']);
    expect(rig.fake.folders().every((f) => f.mimeType === FOLDER_MIME)).toBe(true);

    const uploads = rig.fake.uploads();
    expect(uploads).toHaveLength(3);
    for (const [record, day] of [
      [a, '20'],
      [b, '21'],
      [rig.gallery.store.get(c.id)!, '21'],
    ] as const) {
      const file = uploads.find((u) => u.appProperties?.['easel_id'] === record.id)!;
      const onDisk = await readFile(rig.gallery.store.filePath(record.id)!);
      expect(rig.fake.pathOf(file)).toBe(`StableDiffusion_Gallery/2026/11/${day}`);
      expect(file.name).toBe(record.file.split('/')[1]);
      expect(file.mimeType).toBe('image/png');
      expect(file.description).toBe(record.infotext);
      expect(file.content!.equals(onDisk)).toBe(true);
      expect(file.appProperties).toMatchObject({
        easel_sha256: createHash('sha256').update(onDisk).digest('hex'),
        created_at: String(Date.parse(record.created_at)),
        favorite: record.favorite ? '1' : '0',
        seed: String(record.seed),
        model: record.model,
        file: record.file,
      });
    }
    expect(uploads.find((u) => u.appProperties?.['easel_id'] === c.id)!.appProperties!['favorite']).toBe('1');
  });

  it('a second sync uploads nothing', async () => {
    rig = await driveRig();
    await addImage(rig.gallery, { seed: 1 });
    await addImage(rig.gallery, { seed: 2 });
    await rig.service.sync().done;
    const before = rig.fake.driveRequests(isUpload).length;
    expect(before).toBe(2);
    await rig.service.sync().done;
    expect(rig.fake.driveRequests(isUpload)).toHaveLength(before);
    expect(rig.fake.uploads()).toHaveLength(2);
  });

  it('a crash between the upload and the local mark does not duplicate after a restart', async () => {
    rig = await driveRig();
    const img = await addImage(rig.gallery);
    await rig.service.sync().done;
    expect(rig.fake.uploads()).toHaveLength(1);
    // The process died before committing the mark: the row never made it to disk.
    rig.gallery.db.prepare('DELETE FROM drive_uploads').run();
    const service = rig.restart();
    expect(service.status().pending).toBe(1);
    await service.sync().done;
    expect(service.status()).toMatchObject({ pending: 0, state: 'connected' });
    expect(rig.fake.uploads()).toHaveLength(1);
    expect(rig.fake.driveRequests(isUpload)).toHaveLength(1);
    expect(rig.ledger.driveFileId(img.id)).toBe(rig.fake.uploads()[0]!.id);
  });

  it('an upload whose answer is lost is found by the retry instead of uploaded twice', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 1, commitThenDrop: true, match: isUpload });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ pending: 0, last_error: null });
    expect(rig.fake.uploads()).toHaveLength(1);
    expect(rig.fake.driveRequests(isUpload)).toHaveLength(1);
  });

  it('retries 429 (honouring Retry-After), 500 and a dropped connection, then succeeds', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 2, status: 429, reason: 'rateLimitExceeded', retryAfter: '3', match: isUpload });
    rig.fake.inject({ count: 1, status: 500, reason: 'backendError', match: (r) => r.method === 'GET' });
    rig.fake.inject({ count: 1, drop: true, match: (r) => r.method === 'GET' });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(rig.fake.uploads()).toHaveLength(1);
    const statuses = rig.fake.driveRequests().map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    expect(statuses.filter((s) => s === 'dropped')).toHaveLength(1);
    // Two 429s asked for 3 s; the base delay is 1 ms, so only Retry-After explains these.
    expect(rig.delays.filter((d) => d >= 3000)).toHaveLength(2);
  });

  it('retries a 403 rate-limit reason but stops at other 403s, keeping the image pending', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 1, status: 403, reason: 'userRateLimitExceeded', match: isUpload });
    rig.fake.inject({ count: 1, status: 403, reason: 'insufficientFilePermissions', match: isUpload });
    await rig.service.sync().done;
    const failed = rig.service.status();
    expect(failed.state).toBe('error');
    expect(failed.pending).toBe(1);
    expect(failed.last_error?.code).toBe('drive_forbidden');
    expect(failed.last_error?.message).toContain('insufficientFilePermissions');
    expect(rig.fake.uploads()).toHaveLength(0);
    expect(rig.statuses.some((s) => s.state === 'error' && s.last_error?.code === 'drive_forbidden')).toBe(true);

    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0, last_error: null });
    expect(rig.fake.uploads()).toHaveLength(1);
  });

  it('a permanent 404 becomes last_error and the next sync recovers', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 1, status: 404, reason: 'notFound', match: isUpload });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'error', pending: 1, last_error: { code: 'drive_not_found' } });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0 });
  });

  it('gives up after the retry budget with drive_unavailable, image still pending', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 50, status: 503, reason: 'backendError' });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'error', pending: 1, last_error: { code: 'drive_unavailable' } });
    expect(rig.delays.length).toBe(4); // maxAttempts 5 → 4 waits
    expect(rig.delays[3]!).toBeGreaterThanOrEqual(4); // base 1 ms doubling: ceiling 8, at least half
  });

  it('on 401 refreshes the access token once and goes on', async () => {
    rig = await driveRig();
    await addImage(rig.gallery, { seed: 1 });
    await rig.service.sync().done;
    const refreshesBefore = rig.fake.tokenRequests.filter((t) => t.grant_type === 'refresh_token').length;
    rig.fake.expireAccessTokens();
    await addImage(rig.gallery, { seed: 2 });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'connected', pending: 0 });
    expect(rig.fake.tokenRequests.filter((t) => t.grant_type === 'refresh_token').length).toBe(refreshesBefore + 1);
    expect(rig.fake.uploads()).toHaveLength(2);
  });

  it('a 401 that survives the refresh becomes drive_auth_failed', async () => {
    rig = await driveRig();
    await addImage(rig.gallery);
    rig.fake.inject({ count: 2, status: 401, reason: 'authError' });
    await rig.service.sync().done;
    expect(rig.service.status()).toMatchObject({ state: 'error', pending: 1, last_error: { code: 'drive_auth_failed' } });
    // Connecting gave an access token (authorization_code grant); the 401s forced exactly one refresh.
    expect(rig.fake.tokenRequests.filter((t) => t.grant_type === 'refresh_token')).toHaveLength(1);
    expect(rig.fake.driveRequests((r) => r.status === 401)).toHaveLength(2);
  });

  it('never runs two syncs at once; a sync asked for meanwhile runs after', async () => {
    rig = await driveRig();
    await addImage(rig.gallery, { seed: 1 });
    const first = rig.service.sync();
    const second = rig.service.sync();
    expect(first.started).toBe(true);
    expect(second.started).toBe(false);
    expect(rig.service.status().state).toBe('syncing');
    await first.done;
    await vi.waitFor(() => expect(rig!.service.status().state).toBe('connected'));
    expect(rig.fake.uploads()).toHaveLength(1);
    expect(rig.fake.driveRequests(isUpload)).toHaveLength(1);
  });

  it('reports drive_not_connected when no token is stored', async () => {
    rig = await driveRig({ connect: false });
    await addImage(rig.gallery);
    expect(rig.service.status()).toMatchObject({ state: 'disconnected', auth: null, pending: 1 });
    expect(() => rig!.service.requireConnected()).toThrow(expect.objectContaining({ code: 'drive_not_connected' }));
  });
});

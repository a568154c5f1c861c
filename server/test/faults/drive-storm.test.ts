// Fault: Drive answers a storm of 429s, 5xx and dropped connections (some after the upload was
// done), and the disk fills while the upload ledger is written. Sync after sync, every image ends
// on Drive exactly once: nothing lost, nothing twice; the ledger failure is `insufficient_space`.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskGuard } from '../../reliability/disk-guard.js';
import { UploadLedger } from '../../drive/upload-ledger.js';
import { DriveService } from '../../drive/drive-service.js';
import { pino } from 'pino';
import { addImage, driveRig, type DriveRig } from '../../drive/test/helpers.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const IMAGES = 24;

describe(`Drive under a 429/5xx storm (seed ${SEED})`, () => {
  let rig: DriveRig | undefined;
  afterEach(async () => {
    await rig?.cleanup();
    rig = undefined;
  });

  it('uploads every image exactly once across failing syncs', { timeout: 60_000 }, async () => {
    rig = await driveRig();
    const ids: string[] = [];
    for (let i = 0; i < IMAGES; i++) ids.push((await addImage(rig.gallery, { seed: i }, `#${(0x100000 + i * 2711).toString(16).slice(-6)}`)).id);
    // A seeded storm: every kind of failure, on any request, some after the write happened.
    const fault = fc.oneof(
      fc.record({ status: fc.constantFrom(429, 500, 502, 503), reason: fc.constantFrom('rateLimitExceeded', 'backendError', 'userRateLimitExceeded') }),
      fc.constant({ drop: true }),
      fc.constant({ commitThenDrop: true }),
    );
    const storm = fc.sample(fc.tuple(fault, fc.integer({ min: 1, max: 3 }), fc.constantFrom('GET', 'POST', 'PATCH', 'any')), { numRuns: 40, seed: SEED });
    for (const [f, count, method] of storm) rig.fake.inject({ ...f, count, ...(method === 'any' ? {} : { match: (r) => r.method === method }) });

    let syncs = 0;
    while (rig.service.status().pending > 0 && syncs < 40) {
      await rig.service.sync().done;
      syncs++;
    }
    expect(rig.service.status().pending, `still pending after ${syncs} syncs (seed ${SEED})`).toBe(0);
    const uploaded = rig.fake.uploads().map((f) => f.appProperties?.['easel_id']);
    expect(uploaded.sort()).toEqual([...ids].sort());
    expect(new Set(uploaded).size).toBe(uploaded.length);
    const statuses = rig.fake.driveRequests().map((r) => r.status);
    expect(statuses.some((s) => s === 429 || s === 'dropped' || (typeof s === 'number' && s >= 500))).toBe(true);
  });

  it('a full disk while writing the ledger is insufficient_space, and the next sync duplicates nothing', { timeout: 60_000 }, async () => {
    let free = 1 << 30;
    const guard = new DiskGuard({ dir: '/', minFreeBytes: 1024, freeBytes: async () => free });
    let full = false;
    class FillingLedger extends UploadLedger {
      override markUploaded(imageId: string, driveFileId: string, at?: number): void {
        if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        super.markUploaded(imageId, driveFileId, at);
      }
    }
    rig = await driveRig();
    const base = rig;
    await base.service.stop();
    // The same service as the rig's, over a ledger whose writes fail while the disk is "full".
    base.service = new DriveService({
      auth: base.auth,
      ledger: new FillingLedger(base.gallery.db),
      gallery: base.gallery.store,
      runIo: (task) => base.lane.run(task),
      folderName: 'StableDiffusion_Gallery',
      parentId: 'root',
      syncIntervalMs: 0,
      retry: { baseDelayMs: 1, maxAttempts: 3, sleep: () => Promise.resolve() },
      apiRoot: base.fake.url,
      broadcast: () => {},
      logger: pino({ level: 'silent' }),
      classifyError: (err) => guard.classify(err),
    });
    for (let i = 0; i < 4; i++) await addImage(base.gallery, { seed: 100 + i });
    full = true;
    free = 0;
    await base.service.sync().done;
    expect(base.service.status().last_error).toMatchObject({ code: 'insufficient_space' });
    expect(base.service.status().pending).toBe(4);
    expect(guard.isFull).toBe(true);
    // Space returns: the uploads already on Drive are found by easel_id, not uploaded again.
    full = false;
    free = 1 << 30;
    await guard.check();
    await base.service.sync().done;
    expect(base.service.status()).toMatchObject({ pending: 0, last_error: null });
    const uploaded = base.fake.uploads().map((f) => f.appProperties?.['easel_id']);
    expect(uploaded).toHaveLength(4);
    expect(new Set(uploaded).size).toBe(4);
  });
});

// Restore into an empty data folder, from what a sync put on the fake Drive: rows identical (ids,
// created_at, favorite, infotext, generation fields), bytes identical, thumbnails made; a second
// restore adds nothing; a corrupted copy is refused without stopping the others.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { GalleryQuerySchema } from '../../protocol/gallery.js';
import { FakeDrive } from './fake-drive.js';
import { addImage, driveRig, type DriveRig } from './helpers.js';

const rigs: DriveRig[] = [];
let fake: FakeDrive | undefined;
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.cleanup();
  await fake?.stop();
  fake = undefined;
});

async function backedUpGallery(): Promise<{ source: DriveRig; ids: string[] }> {
  fake = await new FakeDrive().start();
  const source = await driveRig({ fake });
  rigs.push(source);
  const a = await addImage(source.gallery, { seed: 11, prompt: 'a lighthouse at dusk, (oil painting:1.2)', model: 'dreamshaper_8' }, '#112233');
  const b = await addImage(source.gallery, { seed: 4294967295, task: 'img2img', negative_prompt: '', sampler: 'dpmpp_2m', scheduler: 'karras', cfg_scale: 5.5, width: 80, height: 64 }, '#aa5500');
  const c = await addImage(source.gallery, { seed: 7, steps: 30 }, '#00aa55');
  source.gallery.store.update(b.id, { favorite: true });
  await source.service.sync().done;
  expect(source.service.status()).toMatchObject({ pending: 0, last_error: null });
  return { source, ids: [a.id, b.id, c.id] };
}

describe('restore from drive', () => {
  it('rebuilds the gallery rows and files of an empty data folder exactly', async () => {
    const { source, ids } = await backedUpGallery();
    const restored: string[][] = [];
    // onRestored is how the server announces gallery:new; check it gets the ids.
    const target = await driveRig({ fake: fake!, service: { onRestored: (x) => restored.push(x) } });
    rigs.push(target);
    expect(target.gallery.store.count()).toBe(0);
    const svc = target.service;
    const run = svc.restore();
    expect(run.started).toBe(true);
    await run.done;

    const status = svc.status();
    expect(status.restore).toEqual({ state: 'completed', total: 3, done: 3, added: 3 });
    expect(status.last_error).toBeNull();
    expect(status.pending).toBe(0); // restored images are known to be on Drive already
    expect(restored.flat().sort()).toEqual([...ids].sort());
    expect(target.statuses.some((s) => s.state === 'restoring')).toBe(true);
    for (const id of ids) {
      const original = source.gallery.store.get(id)!;
      const copy = target.gallery.store.get(id);
      expect(copy).toEqual(original);
      const originalBytes = await readFile(source.gallery.store.filePath(id)!);
      const copyBytes = await readFile(target.gallery.store.filePath(id)!);
      expect(copyBytes.equals(originalBytes)).toBe(true);
      expect(existsSync(target.gallery.store.thumbPath(id))).toBe(true);
    }
    expect(target.gallery.store.get(ids[1]!)!.favorite).toBe(true);
    // Searching works on restored rows (the FTS index was filled).
    expect(target.gallery.store.list(GalleryQuerySchema.parse({ search: 'lighthouse' })).items.map((r) => r.id)).toEqual([ids[0]]);

    const downloads = fake!.driveRequests((r) => r.query.get('alt') === 'media').length;
    await svc.restore().done;
    expect(svc.status().restore).toEqual({ state: 'completed', total: 3, done: 3, added: 0 });
    expect(target.gallery.store.count()).toBe(3);
    expect(fake!.driveRequests((r) => r.query.get('alt') === 'media')).toHaveLength(downloads);

    // The restored server does not upload its history again.
    const uploadsBefore = fake!.uploads().length;
    await svc.sync().done;
    expect(fake!.uploads()).toHaveLength(uploadsBefore);
  });

  it('refuses a copy whose bytes do not match its checksum and restores the rest', async () => {
    const { ids } = await backedUpGallery();
    const broken = fake!.uploads().find((f) => f.appProperties?.['easel_id'] === ids[2])!;
    broken.content = Buffer.concat([broken.content!, Buffer.from('junk')]);
    const target = await driveRig({ fake: fake! });
    rigs.push(target);
    await target.service.restore().done;
    const status = target.service.status();
    expect(status.restore).toMatchObject({ state: 'failed', total: 3, added: 2 });
    expect(status.state).toBe('error');
    expect(status.last_error?.message).toContain('checksum');
    expect(target.gallery.store.get(ids[2]!)).toBeUndefined();
    expect(target.gallery.store.count()).toBe(2);
  });

  it('retries a failed download and ignores files that are not Easel uploads', async () => {
    const { ids } = await backedUpGallery();
    const day = fake!.uploads()[0]!.parents[0]!;
    fake!.addFile({ name: 'holiday.jpg', mimeType: 'image/jpeg', parents: [day], content: Buffer.from('jpeg') });
    fake!.inject({ count: 1, status: 503, match: (r) => r.query.get('alt') === 'media' });
    const target = await driveRig({ fake: fake! });
    rigs.push(target);
    await target.service.restore().done;
    expect(target.service.status().restore).toEqual({ state: 'completed', total: 3, done: 3, added: 3 });
    expect(ids.every((id) => target.gallery.store.get(id))).toBe(true);
  });

  it('finds nothing to restore when the backup folder does not exist', async () => {
    fake = await new FakeDrive().start();
    const target = await driveRig({ fake });
    rigs.push(target);
    await target.service.restore().done;
    expect(target.service.status().restore).toEqual({ state: 'completed', total: 0, done: 0, added: 0 });
    expect(fake.folders()).toHaveLength(0);
  });
});

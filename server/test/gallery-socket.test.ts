// get_gallery / update_image / delete_images over Socket.IO against B's real GalleryStore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

interface Img {
  id: string;
  prompt: string;
  favorite: boolean;
  url: string;
}

describe('gallery actions', () => {
  let server: TestServer;
  let s: AnySocket;
  let watcher: AnySocket;
  let ids: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({}, { fakeEnv: { FAKE_STEP_MS: '5' } });
    s = await connect(server.url, { token: server.token });
    watcher = await connect(server.url, { token: server.token });
    const job = await call(s, 'generate', { prompt: 'lighthouse at dusk', steps: 1, width: 64, height: 64, batch_size: 2, seed: 100 });
    const done = await waitFor<{ job_id: string; images: Img[] }>(s, 'complete', (e) => e.job_id === job.job_id);
    const job2 = await call(s, 'generate', { prompt: 'forest path', steps: 1, width: 128, height: 64, seed: 5 });
    const done2 = await waitFor<{ job_id: string; images: Img[] }>(s, 'complete', (e) => e.job_id === job2.job_id);
    ids = [...done.images, ...done2.images].map((i) => i.id);
  });
  afterAll(async () => {
    s?.close();
    watcher?.close();
    await server?.dispose();
  });

  it('lists, filters, searches and pages', async () => {
    const all = await call(s, 'get_gallery');
    expect(all.ok).toBe(true);
    expect((all.items as Img[]).map((i) => i.id).sort()).toEqual([...ids].sort());
    const search = await call(s, 'get_gallery', { search: 'lighthouse' });
    expect((search.items as Img[]).every((i) => i.prompt === 'lighthouse at dusk')).toBe(true);
    expect(search.items).toHaveLength(2);
    const wide = await call(s, 'get_gallery', { min_width: 100 });
    expect((wide.items as Img[]).map((i) => i.prompt)).toEqual(['forest path']);
    const page1 = await call(s, 'get_gallery', { limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(typeof page1.next_cursor).toBe('string');
    const page2 = await call(s, 'get_gallery', { limit: 2, cursor: page1.next_cursor });
    expect(page2.items).toHaveLength(1);
    expect(page2.next_cursor).toBeNull();
  });

  it('sets a favorite and tells every client', async () => {
    const changed = waitFor<{ updated: Img[] }>(watcher, 'gallery:changed');
    const res = await call(s, 'update_image', { id: ids[0], favorite: true });
    expect(res).toMatchObject({ ok: true, image: { id: ids[0], favorite: true } });
    expect((await changed).updated[0]).toMatchObject({ id: ids[0], favorite: true });
    const favs = await call(s, 'get_gallery', { favorite: true });
    expect((favs.items as Img[]).map((i) => i.id)).toEqual([ids[0]]);
    expect((await call(s, 'update_image', { id: 'doesNotExist', favorite: true })).error).toMatchObject({ code: 'not_found' });
  });

  it('deletes images (file, thumb, row) and reports missing ids', async () => {
    const target = (await call(s, 'get_gallery', { search: 'forest' })).items as Img[];
    const changed = waitFor<{ deleted: string[] }>(watcher, 'gallery:changed', (e) => Array.isArray(e.deleted));
    const res = await call(s, 'delete_images', { ids: [target[0]!.id, 'neverExisted'] });
    expect(res).toMatchObject({ ok: true, deleted: [target[0]!.id], missing: ['neverExisted'] });
    expect((await changed).deleted).toEqual([target[0]!.id]);
    expect((await fetch(server.url + target[0]!.url)).status).toBe(404);
    expect(((await call(s, 'get_gallery')).items as Img[]).map((i) => i.id)).not.toContain(target[0]!.id);
  });
});

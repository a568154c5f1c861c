// The worker dies mid-job: that job fails with engine_crashed, the worker restarts, the next job
// succeeds and its image lands in the gallery with its infotext.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../infotext/index.js';
import { call, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

describe('engine worker crash', () => {
  let server: TestServer;
  let s: AnySocket;
  let other: AnySocket;

  beforeAll(async () => {
    server = await startTestServer({ PREVIEW_EVERY: '1' });
    s = await connect(server.url, { token: server.token, client_id: 'owner' });
    other = await connect(server.url, { token: server.token, client_id: 'watcher' });
  });
  afterAll(async () => {
    s?.close();
    other?.close();
    await server?.dispose();
  });

  it('fails the running job with engine_crashed, restarts, and runs the next job', async () => {
    const startsBefore = server.supervisor.starts;
    const errorEvent = waitFor<{ job_id: string; code: string; message: string }>(s, 'error');
    const crash = await call(s, 'generate', { prompt: 'please __crash__', steps: 5, width: 64, height: 64 });
    const next = await call(s, 'generate', { prompt: 'a red fox, in snow: "quoted"', negative_prompt: 'blurry', steps: 3, width: 64, height: 96, seed: 42, sampler: 'DPM++ 2M Karras', cfg_scale: 6.5 });
    expect(crash.ok && next.ok).toBe(true);

    const err = await errorEvent;
    expect(err).toMatchObject({ job_id: crash.job_id, code: 'engine_crashed' });
    expect(err.message).toMatch(/engine process died/);

    const previews: { job_id: string; data: Buffer }[] = [];
    s.on('preview', (p: { job_id: string; data: Buffer }) => previews.push(p));
    const broadcast = waitFor<{ images: { id: string }[] }>(other, 'gallery:new');
    const complete = await waitFor<{ job_id: string; images: { id: string; width: number; height: number; seed: number; infotext: string; url: string; thumb_url: string }[] }>(
      s,
      'complete',
      (e) => e.job_id === next.job_id,
    );
    expect(server.supervisor.starts).toBe(startsBefore + 1);
    expect(complete.images).toHaveLength(1);
    const img = complete.images[0]!;
    expect(img).toMatchObject({ width: 64, height: 96, seed: 42 });
    expect(img.infotext).toContain('Negative prompt: blurry');
    expect(img.infotext).toContain('Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, Size: 64x96');
    expect((await broadcast).images[0]!.id).toBe(img.id);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]!.data[0]).toBe(0xff); // JPEG SOI, delivered as binary

    // The signed URL serves the PNG, carrying the same infotext in its parameters chunk.
    const png = Buffer.from(await (await fetch(server.url + img.url)).arrayBuffer());
    expect(readPngTextChunks(png).parameters).toBe(img.infotext);
    expect((await fetch(server.url + img.thumb_url)).headers.get('content-type')).toContain('image/webp');

    const job = await call(s, 'get_job', { job_id: crash.job_id });
    expect(job.job).toMatchObject({ status: 'failed', error: { code: 'engine_crashed' } });
    const done = await call(s, 'get_job', { job_id: next.job_id });
    expect(done.job).toMatchObject({ status: 'completed', image_ids: [img.id] });
    expect((done.job as { images: { id: string }[] }).images[0]!.id).toBe(img.id);
  });
});

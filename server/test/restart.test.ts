// A server restart keeps queued jobs (in order), marks the interrupted one failed with a clear
// reason, and keeps a consistent gallery.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { call, connect, startTestServer, tempDir, waitFor } from './helpers.js';

describe('restart', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('re-queues queued jobs and keeps the gallery', async () => {
    const first = await startTestServer({}, { dataDir, fakeEnv: { FAKE_STEP_MS: '30' } });
    let s = await connect(first.url, { token: first.token, client_id: 'restart-client' });
    const done = await call(s, 'generate', { prompt: 'kept image', steps: 2, width: 64, height: 64, seed: 7 });
    const complete = await waitFor<{ job_id: string; images: { id: string }[] }>(s, 'complete', (e) => e.job_id === done.job_id);
    const imageId = complete.images[0]!.id;

    const runningNow = waitFor(s, 'progress', (e: { step: number }) => e.step >= 1);
    const interrupted = await call(s, 'generate', { prompt: 'interrupted', steps: 150, width: 64, height: 64 });
    await runningNow;
    const q1 = await call(s, 'generate', { prompt: 'queued one', steps: 2, width: 64, height: 64 });
    const q2 = await call(s, 'generate', { prompt: 'queued two', steps: 2, width: 64, height: 64 });
    expect([q1.position, q2.position]).toEqual([1, 2]);
    s.close();
    await first.close();

    const second = await startTestServer({}, { dataDir, fakeEnv: { FAKE_STEP_MS: '30' } });
    try {
      expect(second.token).toBe(first.token); // the token file is reused
      s = await connect(second.url, { token: second.token, client_id: 'restart-client' });
      const lost = await call(s, 'get_job', { job_id: interrupted.job_id });
      expect(lost.job).toMatchObject({ status: 'failed', error: { code: 'server_stopped', message: 'the server stopped while this job was running' } });
      // The queued jobs run after the restart, in their order.
      await second.queue.whenIdle();
      const j1 = await call(s, 'get_job', { job_id: q1.job_id });
      const j2 = await call(s, 'get_job', { job_id: q2.job_id });
      expect([(j1.job as { status: string }).status, (j2.job as { status: string }).status]).toEqual(['completed', 'completed']);
      expect((j1.job as { finished_at: string }).finished_at <= (j2.job as { finished_at: string }).finished_at).toBe(true);

      const gallery = await call(s, 'get_gallery', {});
      const items = gallery.items as { id: string; prompt: string }[];
      expect(items.map((i) => i.prompt).sort()).toEqual(['kept image', 'queued one', 'queued two']);
      expect(items.some((i) => i.id === imageId)).toBe(true);
      s.close();
    } finally {
      await second.close();
    }
  });
});

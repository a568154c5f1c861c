// Queue positions and cancel over a real Socket.IO connection, with the fake worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, collect, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

describe('job queue over Socket.IO', () => {
  let server: TestServer;
  let a: AnySocket;
  let b: AnySocket;

  beforeAll(async () => {
    server = await startTestServer({}, { fakeEnv: { FAKE_STEP_MS: '40' } });
    a = await connect(server.url, { token: server.token, client_id: 'client-a' });
    b = await connect(server.url, { token: server.token, client_id: 'client-b' });
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await server?.dispose();
  });

  it('reports positions as they change and runs jobs by priority then FIFO', async () => {
    const queueA = collect<{ jobs: { job_id: string; position: number; status: string }[] }>(a, 'queue');
    const firstRunning = waitFor<{ job_id: string; status: string }>(a, 'job:status', (e) => e.status === 'running');
    const first = await call(a, 'generate', { prompt: 'first', steps: 10, width: 64, height: 64 });
    expect(first.ok).toBe(true);
    expect(first.position).toBe(1);
    expect((await firstRunning).job_id).toBe(first.job_id);
    const second = await call(b, 'generate', { prompt: 'second', steps: 2, width: 64, height: 64 });
    const third = await call(a, 'generate', { prompt: 'third', steps: 2, width: 64, height: 64 });
    const urgent = await call(a, 'generate', { prompt: 'urgent', steps: 2, width: 64, height: 64, priority: 5 });
    expect([second.position, third.position, urgent.position]).toEqual([1, 2, 1]);

    const order: string[] = [];
    for (const s of [a, b]) s.on('job:status', (e: { job_id: string; status: string }) => e.status === 'running' && order.push(e.job_id));
    await waitFor(a, 'complete', (e: { job_id: string }) => e.job_id === third.job_id, 30_000);
    expect(order).toEqual([urgent.job_id, second.job_id, third.job_id]);

    // Client A saw its third job move 2 → 3 (urgent jumped ahead) → 2 → 1 → running.
    const thirdPositions = queueA.map((q) => q.jobs.find((j) => j.job_id === third.job_id)?.position).filter((p) => p !== undefined);
    expect(thirdPositions).toContain(3);
    expect(thirdPositions.at(-1)).toBe(0);
    expect(queueA.at(-1)!.jobs).toEqual([]);
    await server.queue.whenIdle();
  });

  it('cancel removes a queued job and stops a running one within a step', async () => {
    const progressed = waitFor<{ job_id: string; step: number }>(a, 'progress', (e) => e.step >= 2);
    const running = await call(a, 'generate', { prompt: 'long', steps: 150, width: 64, height: 64 });
    expect(running.ok).toBe(true);
    expect((await progressed).job_id).toBe(running.job_id);
    const queued = await call(a, 'generate', { prompt: 'waiting', steps: 2, width: 64, height: 64 });
    expect(queued.position).toBe(1);

    // Another client cannot cancel it.
    const foreign = await call(b, 'cancel', { job_id: queued.job_id });
    expect(foreign.error?.code).toBe('not_found');

    const c1 = await call(a, 'cancel', { job_id: queued.job_id });
    expect(c1).toMatchObject({ ok: true, status: 'cancelled' });
    expect((await call(a, 'get_job', { job_id: queued.job_id })).job).toMatchObject({ status: 'cancelled', position: null });

    const steps = collect<{ job_id: string; step: number }>(a, 'progress');
    const cancelled = waitFor(a, 'job:status', (e: { job_id: string; status: string }) => e.job_id === running.job_id && e.status === 'cancelled');
    const c2 = await call(a, 'cancel', { job_id: running.job_id });
    expect(c2).toMatchObject({ ok: true, status: 'cancelling' });
    await cancelled;
    // "Within one step": at most one more step reported after the cancel was acknowledged.
    expect(steps.filter((s) => s.job_id === running.job_id).length).toBeLessThanOrEqual(2);
    const again = await call(a, 'cancel', { job_id: running.job_id });
    expect(again.error?.code).toBe('conflict');
    const q = await call(a, 'get_queue');
    expect(q.running).toBeNull();
    expect((q.jobs as { job_id: string; status: string }[]).find((j) => j.job_id === running.job_id)?.status).toBe('cancelled');
  });

  it('answers queue_full past MAX_QUEUE', async () => {
    const small = await startTestServer({ MAX_QUEUE: '2' }, { fakeEnv: { FAKE_STEP_MS: '200' } });
    const s = await connect(small.url, { token: small.token });
    try {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await call(s, 'generate', { prompt: `p${i}`, steps: 50, width: 64, height: 64 }));
      // One runs, two wait, the fourth is refused (the first may or may not have started yet).
      const refused = results.filter((r) => !r.ok);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused[0]!.error?.code).toBe('queue_full');
    } finally {
      s.close();
      await small.dispose();
    }
  });
});

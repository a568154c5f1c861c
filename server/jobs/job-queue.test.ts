import { describe, expect, it } from 'vitest';
import { openDatabase } from '../gallery/database.js';
import { JobStore } from '../gallery/job-store.js';
import { EaselError } from '../protocol/errors.js';
import { JobQueue, type JobExecutor, type QueueEntry } from './job-queue.js';
import type { Job } from './job.js';

/** An executor whose jobs finish only when the test says so. */
function manualExecutor() {
  const pending = new Map<string, { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal }>();
  const started: string[] = [];
  const executor: JobExecutor = (job, signal) =>
    new Promise((resolve, reject) => {
      started.push(job.id);
      signal.addEventListener('abort', () => reject(new EaselError('cancelled', 'cancelled')));
      pending.set(job.id, { resolve: () => resolve({ imageIds: [`img-${job.id}`] }), reject, signal });
    });
  return { executor, pending, started };
}

function setup(maxQueued = 10) {
  const db = openDatabase(':memory:');
  const store = new JobStore(db);
  const statuses: [string, string][] = [];
  const positions: Map<string, QueueEntry[]>[] = [];
  const ex = manualExecutor();
  const queue = new JobQueue({
    store,
    maxQueued,
    executor: ex.executor,
    listener: { onStatus: (j: Job) => statuses.push([j.id, j.status]), onPositions: (c) => positions.push(new Map(c)) },
  });
  return { db, store, queue, statuses, positions, ...ex };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('JobQueue', () => {
  it('runs one job at a time, priority first then FIFO', async () => {
    const { queue, pending, started } = setup();
    const a = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    await tick();
    const b = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    const c = queue.enqueue({ kind: 'generate', clientId: 'c2', params: {}, priority: 1 });
    const d = queue.enqueue({ kind: 'generate', clientId: 'c2', params: {} });
    await tick();
    expect(started).toEqual([a.id]);
    expect(queue.positionOf(a.id)).toBe(0);
    expect([queue.positionOf(c.id), queue.positionOf(b.id), queue.positionOf(d.id)]).toEqual([1, 2, 3]);
    for (const id of [a.id, c.id, b.id]) {
      pending.get(id)!.resolve();
      await tick();
      await tick();
    }
    expect(started).toEqual([a.id, c.id, b.id, d.id]);
    expect(queue.get(a.id)).toMatchObject({ status: 'completed', imageIds: [`img-${a.id}`] });
  });

  it('pushes positions only to clients whose entries changed', async () => {
    const { queue, positions, pending } = setup();
    const a = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    await tick();
    queue.enqueue({ kind: 'generate', clientId: 'c2', params: {} });
    positions.length = 0;
    queue.enqueue({ kind: 'generate', clientId: 'c3', params: {} });
    // c1 and c2 are unaffected by a job queued behind them.
    expect([...positions[0]!.keys()]).toEqual(['c3']);
    positions.length = 0;
    pending.get(a.id)!.resolve();
    await tick();
    await tick();
    const changed = new Set(positions.flatMap((m) => [...m.keys()]));
    expect(changed).toEqual(new Set(['c1', 'c2', 'c3']));
    expect(positions.at(-1)!.get('c3')).toEqual([{ job_id: expect.any(String), status: 'queued', position: 1 }]);
  });

  it('cancels queued and running jobs of the owner only', async () => {
    const { queue, statuses } = setup();
    const a = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    const b = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    await tick();
    expect(() => queue.cancel(b.id, 'intruder')).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(queue.cancel(b.id, 'c1')).toBe('cancelled');
    expect(queue.positionOf(b.id)).toBeNull();
    expect(queue.cancel(a.id, 'c1')).toBe('cancelling');
    await tick();
    await tick();
    expect(queue.get(a.id)!.status).toBe('cancelled');
    expect(statuses.filter(([id]) => id === a.id).map(([, s]) => s)).toEqual(['queued', 'running', 'cancelled']);
    expect(() => queue.cancel(a.id, 'c1')).toThrow(expect.objectContaining({ code: 'conflict' }));
  });

  it('records executor failures with their code', async () => {
    const { queue, pending } = setup();
    const a = queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    await tick();
    pending.get(a.id)!.reject(new EaselError('engine_crashed', 'boom'));
    await tick();
    expect(queue.get(a.id)).toMatchObject({ status: 'failed', error: { code: 'engine_crashed', message: 'boom' } });
  });

  it('refuses past the cap with queue_full', async () => {
    const { queue } = setup(2);
    queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    await tick(); // the first one runs and leaves the waiting list
    queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} });
    expect(() => queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} })).toThrow(expect.objectContaining({ code: 'queue_full' }));
  });

  it('stop() fails the running job with server_stopped and keeps the queued ones in the store', async () => {
    const { queue, store } = setup();
    const a = queue.enqueue({ kind: 'generate', clientId: 'c1', params: { prompt: 'x' } });
    const b = queue.enqueue({ kind: 'generate', clientId: 'c1', params: { prompt: 'y' } });
    await tick();
    await queue.stop();
    expect(store.get(a.id)).toMatchObject({ status: 'failed', error: { code: 'server_stopped' } });
    expect(store.get(b.id)!.status).toBe('queued');
    expect(() => queue.enqueue({ kind: 'generate', clientId: 'c1', params: {} })).toThrow(expect.objectContaining({ code: 'server_stopped' }));
  });
});

import { describe, expect, it } from 'vitest';
import { openDatabase } from '../gallery/database.js';
import { JobStore } from '../gallery/job-store.js';
import { JobQueue } from '../jobs/job-queue.js';
import type { Job } from '../jobs/job.js';
import { DiskGuard, isDiskFullError } from './disk-guard.js';
import { failurePolicy } from './failure-policy.js';

/** The real error better-sqlite3 throws when the database cannot grow. */
function realSqliteFullError(): Error {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE t (x BLOB)');
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
  try {
    for (let i = 0; i < 1000; i++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4096));
  } catch (err) {
    return err as Error;
  } finally {
    db.close();
  }
  throw new Error('expected SQLITE_FULL');
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('isDiskFullError', () => {
  it('knows ENOSPC, EDQUOT, SQLITE_FULL and libvips text, also as a cause', () => {
    const sqlite = realSqliteFullError();
    expect((sqlite as Error & { code?: string }).code).toBe('SQLITE_FULL');
    expect(isDiskFullError(sqlite)).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('write'), { code: 'ENOSPC' }))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('write'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFullError(new Error('VipsForeignSave: write failed: No space left on device'))).toBe(true);
    expect(isDiskFullError(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ENOSPC' }) }))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error('nope'), { code: 'ENOENT' }))).toBe(false);
    expect(isDiskFullError(undefined)).toBe(false);
  });
});

describe('DiskGuard', () => {
  it('flips to full on a write failure or low free space, and back when space returns', async () => {
    let free = 10_000;
    const changes: boolean[] = [];
    const guard = new DiskGuard({ dir: '/', minFreeBytes: 1000, freeBytes: async () => free, onChange: (s) => changes.push(s.ok) });
    await guard.check();
    expect(guard.isFull).toBe(false);
    expect(() => guard.assertSpace()).not.toThrow();

    const coded = guard.classify(Object.assign(new Error('x'), { code: 'ENOSPC' }));
    expect(coded?.code).toBe('insufficient_space');
    expect(guard.isFull).toBe(true);
    expect(() => guard.assertSpace()).toThrow(expect.objectContaining({ code: 'insufficient_space' }));
    expect(guard.status()).toMatchObject({ ok: false, message: expect.any(String), since: expect.any(String) });
    expect(guard.classify(new Error('something else'))).toBeUndefined();

    await guard.check(); // 10,000 free ≥ 1,000: space is back
    expect(guard.isFull).toBe(false);
    free = 10;
    await guard.check();
    expect(guard.status()).toMatchObject({ ok: false, free_bytes: 10, min_free_bytes: 1000 });
    expect(changes).toEqual([false, true, false]);
  });
});

describe('JobQueue on a full disk', () => {
  it('fails the job with insufficient_space instead of throwing from its microtask, and holds new work', async () => {
    const sqliteFull = realSqliteFullError();
    const db = openDatabase(':memory:');
    class FillingStore extends JobStore {
      full = false;
      override update(job: Job): void {
        if (this.full) throw sqliteFull;
        super.update(job);
      }
    }
    const store = new FillingStore(db);
    let free = 1_000_000;
    const guard = new DiskGuard({ dir: '/', minFreeBytes: 1000, freeBytes: async () => free });
    const statuses: [string, string, string?][] = [];
    let ran = 0;
    const queue = new JobQueue({
      store,
      maxQueued: 10,
      admit: () => guard.assertSpace(),
      paused: () => guard.isFull,
      failures: failurePolicy({ guard, dataDir: '/data', modelsDir: '/models' }),
      executor: async () => {
        ran++;
        return { imageIds: [] };
      },
      listener: { onStatus: (j) => statuses.push([j.id, j.status, j.error?.code]), onPositions: () => {} },
    });
    store.full = true;
    const job = queue.enqueue({ kind: 'generate', clientId: 'c', params: {} });
    await tick();
    await tick();
    expect(ran).toBe(0);
    expect(statuses.at(-1)).toEqual([job.id, 'failed', 'insufficient_space']);
    expect(guard.isFull).toBe(true);
    expect(() => queue.enqueue({ kind: 'generate', clientId: 'c', params: {} })).toThrow(expect.objectContaining({ code: 'insufficient_space' }));

    // Space returns: new work is taken and runs.
    store.full = false;
    free = 1_000_000;
    await guard.check();
    const next = queue.enqueue({ kind: 'generate', clientId: 'c', params: {} });
    await queue.whenIdle();
    expect(store.get(next.id)?.status).toBe('completed');
    expect(ran).toBe(1);
    db.close();
  });
});

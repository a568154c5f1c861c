import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { INTERRUPTED_MESSAGE, JobStore } from './job-store.js';
import type { Job } from '../jobs/job.js';

function job(id: string, seq: number, over: Partial<Job> = {}): Job {
  return { id, seq, kind: 'generate', clientId: 'c', params: {}, priority: 0, status: 'queued', createdAt: 1000 + seq, startedAt: null, finishedAt: null, error: null, imageIds: [], ...over };
}

describe('JobStore', () => {
  it('survives a reopen: running jobs become failed, queued ones come back in queue order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'easel-jobs-'));
    try {
      const file = join(dir, 'gallery.db');
      const db = openDatabase(file);
      const store = new JobStore(db);
      const image = new Uint8Array([137, 80, 78, 71, 0, 255]);
      store.insert(job('run', 1, { status: 'running', startedAt: 5 }));
      store.insert(job('q-low', 2, { params: { prompt: 'low', image } }));
      store.insert(job('q-high', 3, { priority: 2 }));
      store.insert(job('done', 4, { status: 'completed', imageIds: ['i1', 'i2'], finishedAt: 9000 }));
      store.insert(job('ancient', 0, { status: 'failed', finishedAt: 10 }));
      db.close();

      const store2 = new JobStore(openDatabase(file));
      const { requeued, interrupted } = store2.recover(9999, 5000);
      expect(store2.get('ancient')).toBeUndefined();
      expect(interrupted.map((j) => j.id)).toEqual(['run']);
      expect(store2.get('run')).toMatchObject({ status: 'failed', finishedAt: 9999, error: { code: 'server_stopped', message: INTERRUPTED_MESSAGE } });
      expect(requeued.map((j) => j.id)).toEqual(['q-high', 'q-low']);
      const low = requeued[1]!;
      expect(low.params.image).toBeInstanceOf(Uint8Array);
      expect([...(low.params.image as Uint8Array)]).toEqual([...image]);
      expect(store2.get('done')!.imageIds).toEqual(['i1', 'i2']);
      expect(store2.nextSeq()).toBe(5);
      expect(store2.listByClient('c', 2).map((j) => j.id)).toEqual(['done', 'q-high']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

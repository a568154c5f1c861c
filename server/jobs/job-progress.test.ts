import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../protocol/events.js';
import { JOB_PHASES } from '../protocol/jobs.js';
import { JOB_PHASES as WORKER_PHASES } from '../../native/worker-protocol.js';
import type { Job } from './job.js';
import { JobProgressHub } from './job-progress.js';

function job(params: Record<string, unknown> = { steps: 10 }): Job {
  return { id: 'j1', kind: 'generate', clientId: 'c', params, priority: 0, status: 'running', seq: 1, createdAt: 0, startedAt: 0, finishedAt: null, error: null, imageIds: [] };
}

describe('job progress: phases and ETA', () => {
  it('the wire and the worker name the same phases in the same order', () => {
    expect([...JOB_PHASES]).toEqual([...WORKER_PHASES]);
  });

  it('reports each phase with its fraction, keeps the latest on the job, and the ETA counts the phases ahead', () => {
    let t = 0;
    const hub = new JobProgressHub(() => t);
    const events: ProgressEvent[] = [];
    const j = job();
    const { tracker, done } = hub.track(j, (e) => events.push(e));
    tracker.update(0, 0, { phase: 'loading_model', fraction: 0, detail: 'loading a.safetensors' });
    t = 5000;
    tracker.update(0, 0, { phase: 'encoding' });
    t = 6000;
    tracker.update(0, 0, { phase: 'sampling' });
    for (let s = 1; s <= 10; s++) {
      t += 2000;
      tracker.update(s, 10, { phase: 'sampling' });
    }
    // No decode measured yet: the first job's ETA during sampling is the steps left at its own pace.
    expect(events.find((e) => e.step === 4)?.eta_s).toBe(12);
    tracker.update(10, 10, { phase: 'decoding' });
    t += 3000;
    tracker.enter('saving', { fraction: 0 });
    t += 1000;
    tracker.enter('saving', { fraction: 1 });
    done(true);
    expect(events.map((e) => e.phase).filter((p, i, a) => p !== a[i - 1])).toEqual(['loading_model', 'encoding', 'sampling', 'decoding', 'saving']);
    expect(events[0]).toMatchObject({ phase: 'loading_model', phase_progress: 0, detail: 'loading a.safetensors', status: 'running' });
    expect(events.find((e) => e.step === 5)).toMatchObject({ phase: 'sampling', phase_progress: 0.5 });
    expect(j.progress).toMatchObject({ phase: 'saving', phase_progress: 1 });

    // The second job knows the per-step time and the decode/saving lengths of the first one.
    const events2: ProgressEvent[] = [];
    const j2 = job({ steps: 10 });
    const second = hub.track(j2, (e) => events2.push(e));
    second.tracker.update(0, 0, { phase: 'encoding' });
    // encoding 1 s (learned) + 10 steps × 2 s + decoding 3 s + saving 1 s.
    expect(events2[0]!.eta_s).toBe(25);
    second.done(false);
  });

  it('queued jobs get their position and an ETA once a job length is known', () => {
    let t = 0;
    const hub = new JobProgressHub(() => t);
    const j = job();
    expect(hub.queued(j, 2)).toEqual({ job_id: 'j1', step: 0, total: 0, status: 'queued', phase: 'queued', position: 2 });
    const { tracker, done } = hub.track(job(), () => undefined);
    t = 10_000;
    tracker.update(5, 5);
    done(true);
    expect(hub.queued(j, 2)).toMatchObject({ phase: 'queued', position: 2, eta_s: 20 });
    expect(j.progress?.phase).toBe('queued');
  });

  it('a worker that reports only steps is shown as sampling with step/total', () => {
    let t = 0;
    const events: ProgressEvent[] = [];
    const { tracker } = new JobProgressHub(() => t).track(job({ steps: 4 }), (e) => events.push(e));
    t = 1000;
    tracker.update(1, 4);
    expect(events[0]).toMatchObject({ phase: 'sampling', step: 1, total: 4, phase_progress: 0.25, eta_s: 3 });
  });
});

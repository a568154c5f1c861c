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

  it('a session load in the middle of a phase adds up its pieces and the ETA still counts the interrupted phase', () => {
    let t = 0;
    const hub = new JobProgressHub(() => t);
    const first = hub.track(job({ steps: 2 }), () => undefined);
    first.tracker.update(0, 0, { phase: 'encoding' });
    t += 1000;
    first.tracker.update(0, 0, { phase: 'sampling' });
    t += 500;
    first.tracker.update(0, 0, { phase: 'loading_model', fraction: 0.5, detail: 'UNet: creating the session' });
    t += 10_000;
    first.tracker.update(0, 0, { phase: 'sampling' });
    for (const s of [1, 2]) {
      t += 1000;
      first.tracker.update(s, 2, { phase: 'sampling' });
    }
    first.tracker.update(2, 2, { phase: 'decoding' });
    t += 1000;
    first.tracker.update(2, 2, { phase: 'loading_model', detail: 'VAE decoder: creating the session' });
    t += 5000;
    first.tracker.update(2, 2, { phase: 'decoding' });
    t += 2000;
    first.tracker.enter('saving');
    first.done(true);
    // Learned: encoding 1 s, sampling (0.5 s + 2 steps × 1 s) / 2 steps, decoding 1 + 2 = 3 s; loads not at all.
    expect(hub.timings.phase('generate', 'encoding')).toBe(1);
    expect(hub.timings.phase('generate', 'decoding')).toBe(3);
    expect(hub.timings.step).toBe(1.25);
    expect(hub.timings.phase('generate', 'loading_model')).toBeUndefined();

    const events: ProgressEvent[] = [];
    const second = hub.track(job({ steps: 4 }), (e) => events.push(e));
    second.tracker.update(0, 0, { phase: 'loading_model', fraction: 0 });
    // Before anything ran: every phase ahead (encoding 1 + 4 steps × 1.25 + decoding 3 + saving 0).
    expect(events.at(-1)!.eta_s).toBe(9);
    second.tracker.update(0, 4, { phase: 'sampling' });
    second.tracker.update(0, 4, { phase: 'loading_model', detail: 'UNet: creating the session' });
    // Interrupted sampling: its 4 steps and decoding still ahead; encoding is done.
    expect(events.at(-1)!.eta_s).toBe(8);
    second.done(false);
  });
});

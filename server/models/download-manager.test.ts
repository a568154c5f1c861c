import { describe, expect, it } from 'vitest';
import { IoLane } from '../jobs/io-lane.js';
import type { Broadcaster } from '../jobs/job-runner.js';
import type { DownloadProgressEvent } from '../protocol/events.js';
import { EaselError } from '../protocol/errors.js';
import { DownloadManager } from './download-manager.js';
import type { DownloadOptions, DownloadRequest, DownloadResult } from './downloads/index.js';

function recorder() {
  const events: { event: string; payload: unknown }[] = [];
  const events_: Broadcaster = {
    toClient: () => undefined,
    toAll: (event, ...args) => void events.push({ event, payload: args[0] }),
  };
  const progress = (id: string) => events.filter((e) => e.event === 'download:progress' && (e.payload as DownloadProgressEvent).job_id === id).map((e) => e.payload as DownloadProgressEvent);
  return { events, broadcaster: events_, progress };
}

describe('DownloadManager', () => {
  it('runs on the lane, cancels a queued download at once, and announces finished ones', async () => {
    const rec = recorder();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let rescans = 0;
    const calls: DownloadRequest[] = [];
    const manager = new DownloadManager({
      lane: new IoLane(1),
      events: rec.broadcaster,
      rescan: async () => (rescans++, false),
      options: { modelsDir: '/unused' },
      download: async (req: DownloadRequest, opts: DownloadOptions): Promise<DownloadResult> => {
        calls.push(req);
        opts.onResolved?.({ name: 'a.safetensors', type: 'lora', total_bytes: 10 });
        opts.onProgress?.({ received_bytes: 5, total_bytes: 10, speed_bps: 100, eta_s: 0.05 });
        await gate;
        return { path: '/unused/loras/a.safetensors', name: 'a.safetensors', type: 'lora', sha256: 'f'.repeat(64), size_bytes: 10 };
      },
    });
    const first = manager.start({ source: 'civitai:1', type: 'lora' }, 'c1');
    const second = manager.start({ source: 'civitai:2', type: 'lora', sha256: 'a'.repeat(64) }, 'c1');
    await new Promise((r) => setTimeout(r, 10));
    expect(manager.active.map((e) => [e.job_id, e.status])).toEqual([
      [first.job_id, 'running'],
      [second.job_id, 'queued'],
    ]);
    expect(manager.cancel(second.job_id)).toEqual({ job_id: second.job_id, status: 'cancelling' });
    expect(rec.progress(second.job_id).map((e) => e.status)).toEqual(['queued', 'cancelled']);
    expect(() => manager.cancel(second.job_id)).toThrow(EaselError);

    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(rec.progress(first.job_id).map((e) => e.status)).toEqual(['queued', 'running', 'running', 'running', 'completed']);
    expect(rec.progress(first.job_id).at(-1)).toMatchObject({ name: 'a.safetensors', received_bytes: 10, total_bytes: 10 });
    // The cancelled one never started; the finished one caused a rescan and models:changed.
    expect(calls.map((c) => c.source)).toEqual(['civitai:1']);
    expect(rescans).toBe(1);
    expect(rec.events.some((e) => e.event === 'models:changed')).toBe(true);
    expect(manager.active).toEqual([]);
  });

  it('reports a failure with its code', async () => {
    const rec = recorder();
    const manager = new DownloadManager({
      lane: new IoLane(1),
      events: rec.broadcaster,
      rescan: async () => true,
      options: { modelsDir: '/unused' },
      download: async () => {
        throw new EaselError('insufficient_space', 'no room');
      },
    });
    const { job_id } = manager.start({ source: 'civitai:3', type: 'lora' }, 'c1');
    await new Promise((r) => setTimeout(r, 10));
    expect(rec.progress(job_id).at(-1)).toMatchObject({ status: 'failed', error: { code: 'insufficient_space', message: 'no room' } });
    expect(rec.events.some((e) => e.event === 'models:changed')).toBe(false);
  });
});

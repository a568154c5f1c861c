// Job phases over a real Socket.IO connection with the engine test double: queued (with position)
// → loading_model → encoding → sampling → decoding → saving, never backwards, an ETA once the
// server has timings, the model kept warm for the next job, and the latest state on the job.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../protocol/events.js';
import { JOB_PHASES } from '../protocol/jobs.js';
import { call, collect, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

/** The distinct phases in the order they were first entered. */
function phaseRuns(events: readonly ProgressEvent[]): string[] {
  return events.map((e) => e.phase ?? '').filter((p, i, a) => p !== a[i - 1]);
}

describe('job phases over Socket.IO', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    server = await startTestServer({}, { fakeEnv: { FAKE_STEP_MS: '30', FAKE_PHASE_MS: '60' } });
    s = await connect(server.url, { token: server.token, client_id: 'phases' });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it('reports every phase in order, with position while queued and step/total while sampling', async () => {
    const progress = collect<ProgressEvent>(s, 'progress');
    const first = await call(s, 'generate', { prompt: 'one', steps: 4, width: 64, height: 64 });
    const second = await call(s, 'generate', { prompt: 'two', steps: 4, width: 64, height: 64 });
    expect(second.position).toBeGreaterThanOrEqual(1);
    await waitFor(s, 'complete', (e: { job_id: string }) => e.job_id === second.job_id, 30_000);

    const one = progress.filter((e) => e.job_id === first.job_id);
    const two = progress.filter((e) => e.job_id === second.job_id);
    expect(phaseRuns(one)).toEqual(['queued', 'loading_model', 'encoding', 'sampling', 'decoding', 'saving']);
    // The model stays warm: the second job loads nothing.
    expect(phaseRuns(two)).toEqual(['queued', 'encoding', 'sampling', 'decoding', 'saving']);
    for (const run of [one, two]) {
      const order = run.map((e) => JOB_PHASES.indexOf(e.phase!));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(two.find((e) => e.phase === 'queued')).toMatchObject({ status: 'queued', position: 1 });
    expect(one.find((e) => e.phase === 'loading_model')).toMatchObject({ phase_progress: 0, detail: 'loading fake-model' });
    expect(one.filter((e) => e.phase === 'sampling' && e.step > 0).map((e) => [e.step, e.total])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(one.at(-1)).toMatchObject({ phase: 'saving', phase_progress: 1 });
    // The second job runs with the first one's timings: every running event has an ETA, and it shrinks.
    const etas = two.filter((e) => e.status === 'running').map((e) => e.eta_s);
    expect(etas.every((v) => typeof v === 'number')).toBe(true);
    expect(etas[etas.length - 1]!).toBeLessThan(etas[0]!);
  });

  it('a model switch says so, and the running job holds its latest progress', async () => {
    const dir = join(server.dataDir, 'models', 'checkpoints');
    mkdirSync(dir, { recursive: true });
    const header = Buffer.from('{}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(dir, 'other.safetensors'), Buffer.concat([len, header]));
    await server.models.rescan();
    const progress = collect<ProgressEvent>(s, 'progress');
    // Enough steps (30 ms each) that the job is still sampling when get_job answers.
    const job = await call(s, 'generate', { prompt: 'three', steps: 60, width: 64, height: 64, model: 'other.safetensors' });
    expect(job.ok, JSON.stringify(job)).toBe(true);
    const sampling = await waitFor<ProgressEvent>(s, 'progress', (e) => e.job_id === job.job_id && e.phase === 'sampling' && e.step >= 1);
    expect(server.queue.get(job.job_id as string)?.progress).toMatchObject({ job_id: job.job_id, phase: 'sampling' });
    // A client that reconnects reads the same state with get_job.
    expect((await call(s, 'get_job', { job_id: job.job_id })).job).toMatchObject({ status: 'running', progress: { phase: 'sampling' } });
    expect(sampling.total).toBe(60);
    await waitFor(s, 'complete', (e: { job_id: string }) => e.job_id === job.job_id, 30_000);
    expect(progress.find((e) => e.phase === 'loading_model')).toMatchObject({ detail: 'switching model to other.safetensors' });
  });
});

// The ADetailer features through the server with the real engine worker (sd1-tiny checkpoint,
// yolo-tiny face detector): the capability, `generate` with an `adetailer` unit (infotext fields
// in the saved PNG), and the `adetailer` action on a gallery image — a queued GPU-lane job with a
// detection preview, progress per detection, the source's own prompt/seed, cancel — plus coded
// refusals.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, sd1TinyPath } from '../../native/testing/fixtures.js';
import { parseInfotext, readPngTextChunks } from '../infotext/index.js';
import type { CompleteEvent, ErrorEvent, JobStatusEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, connect, startTestServer, stepUpdates, tempDir, waitFor, runJobToEnd, installTinyTokenizer, type AnySocket, type JobRun, type TestServer } from './helpers.js';

const JOB_MS = 120_000;
const unit = { ad_model: 'face_tiny.pt', ad_confidence: 0.05, ad_mask_k: 1 };

describe('ADetailer through the server', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const models = join(dataDir, 'models');
    installTinyTokenizer(models);
    for (const d of [join(models, 'checkpoints'), join(models, 'detectors')]) mkdirSync(d, { recursive: true });
    symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
    symlinkSync(fixturePath('yolo-tiny', 'face_tiny.pt'), join(models, 'detectors', 'face_tiny.pt'));
    server = await startTestServer({ PREVIEW_EVERY: '0' }, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'adetailer-test' });
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const runJob = (action: string, params: Record<string, unknown>): Promise<JobRun> => runJobToEnd(s, action, params, JOB_MS);

  async function infotextOf(url: string): Promise<string> {
    const res = await fetch(new URL(url, server.url));
    return readPngTextChunks(new Uint8Array(await res.arrayBuffer())).parameters ?? '';
  }

  const base = { prompt: 'a face, smiling', negative_prompt: 'ugly', width: 96, height: 64, steps: 3, sampler: 'euler', seed: 77, rng: 'cpu' };
  let sourceId = '';

  it('advertises the capability', async () => {
    expect(server.supervisor.capabilities?.adetailer).toBe(true);
  });

  it('generate with an adetailer unit saves the fixed image with the extension infotext fields', async () => {
    const { done } = await runJob('generate', { ...base, adetailer: [unit] });
    const text = await infotextOf(done.images[0].url);
    expect(text).toContain('ADetailer model: face_tiny.pt, ADetailer confidence: 0.05');
    expect(text).toContain('ADetailer version: 25.3.0');
    expect(parseInfotext(text).fields['ADetailer mask only top k']).toBe('1');
    const plain = await runJob('generate', base);
    sourceId = plain.done.images[0].id;
  });

  it('the adetailer action fixes a gallery image: preview, progress per detection, the source prompt and seed', async () => {
    const { done, progress, previews } = await runJob('adetailer', { image_id: sourceId, units: [{ ...unit, ad_mask_k: 2 }] });
    expect(done.images).toHaveLength(1);
    expect(done.images[0].id).not.toBe(sourceId);
    expect(previews.length).toBe(1);
    expect(stepUpdates(progress).map((p) => [p.step, p.total])).toEqual([[0, 2], [1, 2]]);
    const parsed = parseInfotext(await infotextOf(done.images[0].url));
    expect(parsed.prompt).toBe('a face, smiling');
    expect(parsed.seed).toBe(77);
    expect(parsed.fields['ADetailer model']).toBe('face_tiny.pt');
    expect(done.images[0].task).toBe('adetailer');
  });

  it('cancels a queued adetailer job', async () => {
    const first = await call(s, 'adetailer', { image_id: sourceId, units: [unit] });
    const second = await call(s, 'adetailer', { image_id: sourceId, units: [unit] });
    expect(second).toMatchObject({ ok: true });
    const cancelled = waitFor<JobStatusEvent>(s, 'job:status', (e) => e.job_id === second.job_id && e.status === 'cancelled', 30_000);
    expect(await call(s, 'cancel', { job_id: second.job_id })).toMatchObject({ ok: true });
    await cancelled;
    await waitFor<CompleteEvent>(s, 'complete', (e) => e.job_id === first.job_id, JOB_MS);
  });

  it('answers coded errors: unknown image, missing detector', async () => {
    expect(await call(s, 'adetailer', { image_id: 'nope', units: [unit] })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const ack = await call(s, 'adetailer', { image_id: sourceId, units: [{ ad_model: 'missing.pt' }] });
    const err = await waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, JOB_MS);
    expect(err.code).toBe('detector_not_found');
  });
});

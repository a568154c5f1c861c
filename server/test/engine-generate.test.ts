// The server with the real engine worker and a tiny checkpoint made by the project's own script:
// txt2img, img2img and inpaint jobs from a socket.io-client, progress and binary previews, images
// in the gallery with their infotext, cancel of a running job, and a clear error without a model.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../../native/models/random-checkpoint.js';
import { parseInfotext, readPngTextChunks } from '../infotext/index.js';
import type { ErrorEvent, JobStatusEvent, ProgressEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, collect, connect, startTestServer, tempDir, waitFor, runJobToEnd, installTinyTokenizer, type AnySocket, type JobRun, type TestServer } from './helpers.js';

const JOB_MS = 240_000;

function modelsWithTinyCheckpoint(dataDir: string): Promise<unknown> {
  installTinyTokenizer(join(dataDir, 'models'));
  mkdirSync(join(dataDir, 'models', 'checkpoints'), { recursive: true });
  return writeTinyCheckpoint(join(dataDir, 'models', 'checkpoints', 'tiny.safetensors'), { seed: 11 });
}

async function maskPng(w: number, h: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h);
  for (let y = 16; y < 40; y++) for (let x = 16; x < 40; x++) px[y * w + x] = 255;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

describe('generation through the server with the real engine', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    await modelsWithTinyCheckpoint(dataDir);
    server = await startTestServer({ PREVIEW_EVERY: '1' }, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'engine-test' });
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const runJob = (params: Record<string, unknown>): Promise<JobRun> => runJobToEnd(s, 'generate', params, JOB_MS);

  async function fetchBytes(url: string): Promise<Buffer> {
    const res = await fetch(new URL(url, server.url));
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  let txt2imgPng: Buffer;

  it('txt2img: progress every step, binary previews, the image in the gallery with its infotext', async () => {
    const { done, progress, previews } = await runJob({
      prompt: 'a (red:1.2) house',
      negative_prompt: 'blurry',
      width: 64,
      height: 64,
      steps: 4,
      cfg_scale: 5,
      sampler: 'Euler a',
      seed: 7,
      rng: 'cpu',
    });
    const steps = progress.filter((p) => p.phase === 'sampling' && p.step > 0);
    expect(steps.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(steps.every((p) => p.total === 4)).toBe(true);
    // Phases: the cold model loads first; sessions made on first use show as loading_model in
    // between; apart from those the job never goes back.
    expect(progress[0]).toMatchObject({ phase: 'queued', position: 1 });
    expect(progress[1]).toMatchObject({ phase: 'loading_model', phase_progress: 0, detail: 'loading tiny.safetensors' });
    const runs = progress.map((p) => p.phase).filter((p) => p !== 'loading_model').filter((p, i, a) => p !== a[i - 1]);
    expect(runs).toEqual(['queued', 'encoding', 'sampling', 'decoding', 'saving']);
    expect(progress.map((p) => p.detail)).toContain('UNet: creating the session');
    expect(previews.length).toBeGreaterThanOrEqual(2);
    const jpeg = Buffer.from(previews[0]!.data as Uint8Array);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(done.images).toHaveLength(1);
    const img = done.images[0]!;
    expect(img.seed).toBe(7);
    const info = parseInfotext(img.infotext);
    expect(info.prompt).toBe('a (red:1.2) house');
    expect(info.negative_prompt).toBe('blurry');
    expect(info.fields['Sampler']).toBe('Euler a');
    expect(info.fields['Model']).toBe('tiny');
    expect(info.fields['Model hash']).toMatch(/^[0-9a-f]{10}$/);
    expect(info.fields['RNG']).toBe('CPU');
    txt2imgPng = await fetchBytes(img.url);
    expect(readPngTextChunks(txt2imgPng).parameters).toBe(img.infotext);
    const page = await call(s, 'get_gallery', {});
    expect((page.items as { id: string }[]).map((i) => i.id)).toContain(img.id);
  }, JOB_MS);

  it('img2img: the init image goes in as base64 and the strength is recorded', async () => {
    const { done, progress } = await runJob({
      task: 'img2img',
      prompt: 'a house at night',
      image: txt2imgPng.toString('base64'),
      strength: 0.5,
      width: 64,
      height: 64,
      steps: 6,
      sampler: 'euler',
      seed: 8,
    });
    expect(progress.at(-1)?.total).toBe(4); // floor(0.5·6) + 1
    expect(parseInfotext(done.images[0]!.infotext).fields['Denoising strength']).toBe('0.5');
  }, JOB_MS);

  it('inpaint: only masked, the infotext carries the inpaint keys and unmasked pixels survive', async () => {
    const { done } = await runJob({
      task: 'inpaint',
      prompt: 'a window',
      image: txt2imgPng.toString('base64'),
      mask: (await maskPng(64, 64)).toString('base64'),
      inpaint_full_res: true,
      inpaint_full_res_padding: 0,
      mask_blur: 2,
      strength: 0.8,
      width: 64,
      height: 64,
      steps: 3,
      sampler: 'DPM++ 2M Karras',
      seed: 9,
    });
    const fields = parseInfotext(done.images[0]!.infotext).fields;
    expect(fields['Inpaint area']).toBe('Only masked');
    expect(fields['Mask blur']).toBe('2');
    expect(fields['Schedule type']).toBe('Karras');
    const [orig, out] = await Promise.all([
      sharp(txt2imgPng).removeAlpha().raw().toBuffer(),
      sharp(await fetchBytes(done.images[0]!.url)).removeAlpha().raw().toBuffer(),
    ]);
    expect(out[(2 * 64 + 2) * 3]).toBe(orig[(2 * 64 + 2) * 3]);
    expect(out.equals(orig)).toBe(false);
  }, JOB_MS);

  it('cancels a running job within a step, and the next job still runs', async () => {
    const statuses = collect<JobStatusEvent>(s, 'job:status');
    const ack = await call(s, 'generate', { prompt: 'long', width: 64, height: 64, steps: 150, sampler: 'euler', seed: 1 });
    const jobId = ack.job_id as string;
    await waitFor<ProgressEvent>(s, 'progress', (p) => p.job_id === jobId && p.step >= 1, JOB_MS);
    expect(await call(s, 'cancel', { job_id: jobId })).toMatchObject({ ok: true });
    await waitFor<JobStatusEvent>(s, 'job:status', (e) => e.job_id === jobId && e.status === 'cancelled', 30_000);
    const lastStep = await call(s, 'get_job', { job_id: jobId });
    expect(lastStep).toMatchObject({ ok: true });
    expect(statuses.some((e) => e.job_id === jobId && e.status === 'completed')).toBe(false);
    const { done } = await runJob({ prompt: 'after cancel', width: 64, height: 64, steps: 2, sampler: 'euler', seed: 2 });
    expect(done.images).toHaveLength(1);
  }, JOB_MS);
});

describe('the real engine without any checkpoint', () => {
  it('fails the job with a clear no_model error', async () => {
    const server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY });
    const s = await connect(server.url, { token: server.token });
    try {
      const ack = await call(s, 'generate', { prompt: 'a cat', width: 64, height: 64, steps: 2 });
      expect(ack).toMatchObject({ ok: true });
      const err = await waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, 60_000);
      expect(err.code).toBe('no_model');
      expect(err.message).toMatch(/checkpoint/);
    } finally {
      s.close();
      await server.dispose();
    }
  }, 120_000);
});

// The `upscale` action with the real engine worker and the upscale-tiny fixture's model files copied
// into a temp $MODELS_DIR/upscalers: a gallery image and an uploaded one, progress per tile, the
// result in the gallery with the source's infotext plus A1111's Extras fields, the pixels of the
// fixture's case, coded errors, and cancel between tiles.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../native/testing/fixtures.js';
import { readPngTextChunks } from '../infotext/index.js';
import type { ErrorEvent, JobStatusEvent, ProgressEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, collect, connect, startTestServer, stepUpdates, tempDir, waitFor, runJobToEnd, type AnySocket, type JobRun, type TestServer } from './helpers.js';

const JOB_MS = 120_000;
const fx = (name: string) => fixturePath('upscale-tiny', name);
const SOURCE_INFOTEXT = 'a red house\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 42, Size: 40x32, Model: tiny';

async function rgb(png: Uint8Array): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

describe('upscale through the server with the real engine', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;
  let sourceId: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const up = join(dataDir, 'models', 'upscalers');
    mkdirSync(up, { recursive: true });
    copyFileSync(fx('compact_x4.pth'), join(up, 'compact_x4.pth'));
    copyFileSync(fx('rrdb_x4_old.safetensors'), join(up, '4x-Tiny.safetensors'));
    writeFileSync(join(up, 'broken.pth'), readFileSync(fx('rrdb_x4_new.pth')).subarray(0, 5000));
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'upscale-test' });
    const record = await server.gallery.addImage({
      png: readFileSync(fx('input.png')),
      infotext: SOURCE_INFOTEXT,
      meta: { task: 'txt2img', prompt: 'a red house', negative_prompt: 'blurry', model: 'tiny', width: 40, height: 32, seed: 42, steps: 20, cfg_scale: 7, sampler: 'euler_a', scheduler: 'automatic' },
    });
    sourceId = record.id;
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const runUpscale = (params: Record<string, unknown>): Promise<JobRun> => runJobToEnd(s, 'upscale', params, JOB_MS);

  async function jobError(params: Record<string, unknown>): Promise<ErrorEvent> {
    const ack = await call(s, 'upscale', params);
    expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true });
    return waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, JOB_MS);
  }

  async function fetchBytes(url: string): Promise<Buffer> {
    const res = await fetch(new URL(url, server.url));
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  it('advertises the capability', () => {
    expect(server.supervisor.capabilities?.upscale).toBe(true);
  });

  it('upscales a gallery image: fixture pixels, progress per tile, source infotext + Extras fields', async () => {
    const { done, progress } = await runUpscale({ image_id: sourceId, upscaler: 'compact_x4', scale: 2, tile: 16, overlap: 4 });
    expect(done.images).toHaveLength(1);
    const img = done.images[0]!;
    expect([img.width, img.height]).toEqual([80, 64]);
    expect(img.task).toBe('upscale');
    expect(img.prompt).toBe('a red house');
    // 40×32 with 16/4 tiles: 3 × 3 tiles, one progress event each.
    expect(stepUpdates(progress).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stepUpdates(progress).every((p) => p.total === 9)).toBe(true);
    const png = await fetchBytes(img.url);
    const text = readPngTextChunks(png);
    expect(text.parameters).toBe(SOURCE_INFOTEXT);
    expect(text.postprocessing).toBe('Postprocess upscale by: 2, Postprocess upscaler: compact_x4');
    expect(text.extras).toBe(text.postprocessing);
    const [got, want] = await Promise.all([rgb(png), rgb(readFileSync(fx('compact_x4_scale2_tile16_ov4.png')))]);
    expect(got.length).toBe(want.length);
    let off = 0;
    for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1) off++;
    expect(off / want.length).toBeLessThanOrEqual(0.01);
    expect(server.gallery.get(img.id)?.infotext).toBe(SOURCE_INFOTEXT);
    // Saved beside its source: same folder, the source's name plus -upscale.
    const source = server.gallery.get(sourceId)!;
    expect(server.gallery.get(img.id)?.file).toBe(source.file.replace(/\.png$/, '-upscale.png'));
  }, JOB_MS);

  it('upscales an uploaded image to a fixed size with Lanczos (Extras "Scale to", crop to fit)', async () => {
    const { done } = await runUpscale({ image: readFileSync(fx('input.png')), upscaler: 'Lanczos', width: 100, height: 60 });
    const img = done.images[0]!;
    expect([img.width, img.height]).toEqual([100, 60]);
    const text = readPngTextChunks(await fetchBytes(img.url));
    expect(text.postprocessing).toBe('Postprocess upscale to: 100x60, Postprocess upscaler: Lanczos');
  }, JOB_MS);

  it('runs a model by file stem with the server default tiles', async () => {
    const { done, progress } = await runUpscale({ image_id: sourceId, upscaler: '4x-Tiny', scale: 4 });
    expect([done.images[0]!.width, done.images[0]!.height]).toEqual([160, 128]);
    expect(progress.at(-1)).toMatchObject({ step: 1, total: 1 });
    const [got, want] = await Promise.all([rgb(await fetchBytes(done.images[0]!.url)), rgb(readFileSync(fx('rrdb_x4_tile192_ov8.png')))]);
    let off = 0;
    for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1) off++;
    expect(off / want.length).toBeLessThanOrEqual(0.01);
  }, JOB_MS);

  it('fails with coded errors for a missing upscaler, a damaged file and bad parameters', async () => {
    expect((await jobError({ image_id: sourceId, upscaler: 'nope', scale: 2 })).code).toBe('upscaler_not_found');
    const broken = await jobError({ image_id: sourceId, upscaler: 'broken', scale: 2 });
    expect(broken.code).toBe('bad_model_file');
    expect(broken.message).toContain('broken.pth');
    const bad = await call(s, 'upscale', { image_id: sourceId, upscaler: 'Lanczos', width: 100 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const missing = await call(s, 'upscale', { image_id: 'img_doesnotexist', upscaler: 'Lanczos' });
    expect(missing.ok).toBe(false);
  }, JOB_MS);

  it('cancels between tiles, and the next job still runs', async () => {
    const statuses = collect<JobStatusEvent>(s, 'job:status');
    // 160×128 with 16/4 tiles on the RRDB: 13 × 11 tiles.
    const big = await sharp(readFileSync(fx('rrdb_x4_full.png'))).png().toBuffer();
    const ack = await call(s, 'upscale', { image: big, upscaler: '4x-Tiny', scale: 4, tile: 16, overlap: 4 });
    const jobId = ack.job_id as string;
    const first = await waitFor<ProgressEvent>(s, 'progress', (p) => p.job_id === jobId && p.step >= 1, JOB_MS);
    expect(first.total).toBe(143);
    expect(await call(s, 'cancel', { job_id: jobId })).toMatchObject({ ok: true });
    await waitFor<JobStatusEvent>(s, 'job:status', (e) => e.job_id === jobId && e.status === 'cancelled', 30_000);
    expect(statuses.some((e) => e.job_id === jobId && e.status === 'completed')).toBe(false);
    const { done } = await runUpscale({ image_id: sourceId, upscaler: 'Nearest', scale: 2 });
    expect([done.images[0]!.width, done.images[0]!.height]).toEqual([80, 64]);
  }, JOB_MS);
});

// Hires fix through the server with the real engine worker on the sd1-tiny checkpoint (the one the
// sd1-hires fixture was made with): latent and model upscalers, hr_second_pass_steps, a different
// hires sampler and scheduler, save_first_pass; images equal A1111's within the fixture tolerance,
// the infotext reads back (png-info) to the same hires parameters, and a cancel in the second pass.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiresE2eCases, hiresPath, type HiresE2eCase } from '../../native/pipelines/test/hires-fixture.js';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { parseInfotext } from '../infotext/index.js';
import type { ErrorEvent, JobStatusEvent, ProgressEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, collect, connect, startTestServer, stepUpdates, tempDir, waitFor, runJobToEnd, installTinyTokenizer, type AnySocket, type JobRun, type TestServer } from './helpers.js';

const JOB_MS = 240_000;
const byName = new Map(hiresE2eCases().map((c) => [c.name, c]));

/** The `generate` params of a fixture case, as a client sends them. */
function paramsOf(c: HiresE2eCase, hires: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    prompt: c.prompt, negative_prompt: c.negative_prompt, seed: c.seed, steps: c.steps, cfg_scale: c.cfg_scale,
    sampler: c.sampler_name, scheduler: c.scheduler, width: c.width, height: c.height, rng: 'cpu',
    hires: {
      scale: c.hr_scale, steps: c.hr_second_pass_steps, denoising_strength: c.denoising_strength, width: c.hr_resize_x, height: c.hr_resize_y,
      ...(c.hr_upscaler !== null ? { upscaler: c.hr_upscaler } : {}),
      ...(c.hr_sampler_name !== null ? { sampler: c.hr_sampler_name } : {}),
      ...(c.hr_scheduler !== null ? { scheduler: c.hr_scheduler } : {}),
      ...(c.hr_prompt ? { prompt: c.hr_prompt } : {}),
      ...(c.hr_negative_prompt ? { negative_prompt: c.hr_negative_prompt } : {}),
      ...hires,
    },
  };
}

async function expectClose(png: Buffer, want: string): Promise<void> {
  const [a, b] = await Promise.all([sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true }), sharp(want).removeAlpha().raw().toBuffer({ resolveWithObject: true })]);
  expect([a.info.width, a.info.height]).toEqual([b.info.width, b.info.height]);
  let off = 0;
  for (let i = 0; i < b.data.length; i++) if (Math.abs(a.data[i]! - b.data[i]!) > 1) off++;
  expect(off / b.data.length).toBeLessThanOrEqual(0.01);
}

describe('hires fix through the server with the real engine', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const models = join(dataDir, 'models');
    installTinyTokenizer(models);
    for (const d of [join(models, 'checkpoints'), join(models, 'upscalers')]) mkdirSync(d, { recursive: true });
    symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'model.safetensors'));
    symlinkSync(hiresPath('upscalers', 'compact_x4.safetensors'), join(models, 'upscalers', 'compact_x4.safetensors'));
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'hires-test' });
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

  it('the engine announces hires', async () => {
    const res = await fetch(new URL('/api/info', server.url), { headers: { authorization: `Bearer ${server.token}` } });
    expect(JSON.stringify(await res.json())).toMatch(/"hires":true/);
  });

  it('latent upscale ×2 (second pass steps 0 = same): A1111’s image, progress over both passes, png-info reads the hires back', async () => {
    const c = byName.get('latent_x2_steps0')!;
    const { done, progress } = await runJob(paramsOf(c));
    expect(stepUpdates(progress).map((p) => p.step)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(stepUpdates(progress).every((p) => p.total === 10)).toBe(true);
    const img = done.images[0]!;
    expect([img.width, img.height]).toEqual(c.expected_size);
    const png = await fetchBytes(img.url);
    await expectClose(png, hiresPath(c.expected_png));
    const res = await fetch(new URL('/api/png-info', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: png.toString('base64') }),
    });
    const body = (await res.json()) as { info: string; parameters: Record<string, unknown> };
    expect(body.parameters).toMatchObject({ 'Hires upscale': '2.0', 'Hires upscaler': 'Latent', 'Denoising strength': '0.7', 'Size-1': '64', 'Size-2': '64' });
    expect(parseInfotext(body.info).hires).toEqual({ enabled: true, scale: 2, width: 0, height: 0, upscaler: 'Latent', steps: 0, denoising_strength: 0.7, prompt: '', negative_prompt: '' });
  }, JOB_MS);

  it('another hires sampler and scheduler with hr_second_pass_steps: A1111’s image and infotext items', async () => {
    const c = byName.get('nearest_exact_hr_sampler')!;
    const { done, progress } = await runJob(paramsOf(c));
    expect(progress.at(-1)).toMatchObject({ step: 8, total: 8 });
    await expectClose(await fetchBytes(done.images[0]!.url), hiresPath(c.expected_png));
    const info = parseInfotext(done.images[0]!.infotext);
    expect(info.hires).toMatchObject({ scale: 1.5, steps: 4, upscaler: 'Latent (nearest-exact)', sampler: 'euler_a', scheduler: 'exponential', denoising_strength: 0.55 });
    expect(info.sampler).toBe('dpmpp_2m');
  }, JOB_MS);

  it('a model upscaler from models/upscalers, with the first pass kept: both images as A1111 saves them', async () => {
    const c = byName.get('esrgan_compact_x1.5')!;
    const { done } = await runJob(paramsOf(c, { save_first_pass: true }));
    expect(done.images.map((i) => [i.width, i.height])).toEqual([[64, 64], c.expected_size]);
    await expectClose(await fetchBytes(done.images[0]!.url), hiresPath(c.expected_firstpass_png));
    await expectClose(await fetchBytes(done.images[1]!.url), hiresPath(c.expected_png));
    expect(done.images[1]!.infotext).toContain('Hires upscaler: compact_x4');
    expect(done.images[0]!.infotext).toBe(done.images[1]!.infotext);
  }, JOB_MS);

  it('refuses hires on img2img and an unknown upscaler with coded errors', async () => {
    const bad = await call(s, 'generate', { task: 'img2img', image: 'AAAA', prompt: 'x', hires: { scale: 2 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const ack = await call(s, 'generate', { prompt: 'x', width: 64, height: 64, steps: 1, hires: { upscaler: 'nope' } });
    const err = await waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, 60_000);
    expect(err.code).toBe('upscaler_not_found');
  }, JOB_MS);

  it('cancels during the second pass', async () => {
    const statuses = collect<JobStatusEvent>(s, 'job:status');
    const ack = await call(s, 'generate', { prompt: 'long', width: 64, height: 64, steps: 2, sampler: 'euler', seed: 1, hires: { steps: 150, denoising_strength: 0.9 } });
    const jobId = ack.job_id as string;
    const inSecond = await waitFor<ProgressEvent>(s, 'progress', (p) => p.job_id === jobId && p.step >= 4, 120_000);
    expect(inSecond.total).toBe(152);
    expect(await call(s, 'cancel', { job_id: jobId })).toMatchObject({ ok: true });
    await waitFor<JobStatusEvent>(s, 'job:status', (e) => e.job_id === jobId && e.status === 'cancelled', 30_000);
    expect(statuses.some((e) => e.job_id === jobId && e.status === 'completed')).toBe(false);
  }, JOB_MS);
});

// ControlNet through the server with the real engine worker, the sd1-tiny checkpoint and the tiny
// ControlNet of ../shared/fixtures/sd1-controlnet: the fixture's two-unit case over Socket.IO and over
// /sdapi/v1 (the extension's own API request) equal to A1111's image within the fixture tolerance and
// with the extension's infotext; a cancel mid-job; ControlNet with hires fix and with
// inpaint (an inpaint_only unit on the request's own image and mask).
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, sd1TinyPath } from '../../native/testing/fixtures.js';
import type { JobStatusEvent, ProgressEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, collect, connect, installTinyTokenizer, runJobToEnd, startTestServer, tempDir, waitFor, type AnySocket, type TestServer } from './helpers.js';

const JOB_MS = 240_000;
const cn = (name: string): string => fixturePath('sd1-controlnet', name);

interface FixtureCase {
  name: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler_name: string;
  scheduler: string;
  width: number;
  height: number;
  controlnet_units: Record<string, unknown>[];
  expected_png: string;
  infotext: string;
  api_request: Record<string, unknown> & { alwayson_scripts: { controlnet: { args: Record<string, unknown>[] } } };
}

const cases = (JSON.parse(readFileSync(cn('e2e.json'), 'utf8')) as { cases: FixtureCase[] }).cases;
const twoUnits = cases.find((c) => c.name === 'two_units_canny_none_fill')!;
const b64 = (file: string): string => readFileSync(cn(file)).toString('base64');

async function expectClose(png: Buffer, want: string): Promise<void> {
  const [a, b] = await Promise.all([sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true }), sharp(want).removeAlpha().raw().toBuffer({ resolveWithObject: true })]);
  expect([a.info.width, a.info.height]).toEqual([b.info.width, b.info.height]);
  let off = 0;
  for (let i = 0; i < b.data.length; i++) if (Math.abs(a.data[i]! - b.data[i]!) > 1) off++;
  expect(off / b.data.length).toBeLessThanOrEqual(0.01);
}

/** The `ControlNet N: "..."` entries of an infotext. */
const unitsOf = (infotext: string): string[] => [...infotext.matchAll(/ControlNet \d+: "[^"]*"/g)].map((m) => m[0]);

describe('ControlNet through the server with the real engine', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    const dataDir = tempDir();
    const models = join(dataDir, 'models');
    installTinyTokenizer(models);
    for (const d of ['checkpoints', 'controlnet']) mkdirSync(join(models, d), { recursive: true });
    symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'model.safetensors'));
    copyFileSync(cn('control_tiny_canny.safetensors'), join(models, 'controlnet', 'control_tiny_canny.safetensors'));
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'cn-engine' });
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  const fileOf = (id: string): Buffer => readFileSync(server.gallery.filePath(id)!);

  it(
    "runs two units over Socket.IO as A1111 with the extension does (image and infotext)",
    async () => {
      const c = twoUnits;
      const units = c.controlnet_units.map((u) => ({ ...u, image: b64(String(u.image)) }));
      const { done } = await runJobToEnd(
        s,
        'generate',
        { prompt: c.prompt, negative_prompt: c.negative_prompt, seed: c.seed, steps: c.steps, cfg_scale: c.cfg_scale, sampler: c.sampler_name, scheduler: c.scheduler, width: c.width, height: c.height, rng: 'cpu', controlnet: units },
        JOB_MS,
      );
      const image = done.images[0]!;
      await expectClose(fileOf(image.id), cn(c.expected_png));
      expect(unitsOf(image.infotext)).toEqual(unitsOf(c.infotext));
      expect(unitsOf(image.infotext)).toHaveLength(2);
    },
    JOB_MS,
  );

  it(
    "runs the extension's own /sdapi/v1 request (alwayson_scripts.controlnet.args) to the same image",
    async () => {
      const c = twoUnits;
      const files = c.controlnet_units.map((u) => String(u.image));
      const args = c.api_request.alwayson_scripts.controlnet.args.map((a, i) => ({ ...a, image: b64(files[i]!) }));
      const body = { ...c.api_request, alwayson_scripts: { controlnet: { args } } };
      const res = await fetch(`${server.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      const out = (await res.json()) as { images: string[]; info: string };
      await expectClose(Buffer.from(out.images[0]!, 'base64'), cn(c.expected_png));
      expect(unitsOf((JSON.parse(out.info) as { infotexts: string[] }).infotexts[0]!)).toEqual(unitsOf(c.infotext));
    },
    JOB_MS,
  );

  it(
    'cancels a ControlNet job mid-sampling',
    async () => {
      const progress = collect<ProgressEvent>(s, 'progress');
      const ack = await call(s, 'generate', { prompt: 'a house', steps: 60, width: 64, height: 64, controlnet: [{ module: 'canny', model: 'control_tiny_canny', image: b64('ctl_house_96x80.png') }] });
      expect(ack.ok).toBe(true);
      const jobId = ack.job_id as string;
      await waitFor<ProgressEvent>(s, 'progress', (p) => p.job_id === jobId && p.step >= 2 && p.total === 60, JOB_MS);
      const ended = waitFor<JobStatusEvent>(s, 'job:status', (e) => e.job_id === jobId && ['cancelled', 'completed', 'failed'].includes(e.status), JOB_MS);
      expect((await call(s, 'cancel', { job_id: jobId })).ok).toBe(true);
      expect((await ended).status).toBe('cancelled');
      expect(Math.max(...progress.filter((p) => p.job_id === jobId).map((p) => p.step))).toBeLessThan(60);
    },
    JOB_MS,
  );

  it(
    'runs a ControlNet unit with hires fix (the engine applies it in both passes)',
    async () => {
      const { done } = await runJobToEnd(
        s,
        'generate',
        {
          prompt: 'a house', seed: 5, steps: 3, width: 64, height: 64, sampler: 'Euler', rng: 'cpu',
          hires: { scale: 2, steps: 2, denoising_strength: 0.5 },
          controlnet: [{ module: 'canny', model: 'control_tiny_canny [93054dcb]', image: b64('ctl_house_96x80.png'), pixel_perfect: true }],
        },
        JOB_MS,
      );
      const image = done.images[0]!;
      expect([image.width, image.height]).toEqual([128, 128]);
      expect(image.infotext).toContain('Hires upscale: 2');
      expect(unitsOf(image.infotext)).toEqual([expect.stringContaining('Module: canny, Model: control_tiny_canny [93054dcb]')]);
    },
    JOB_MS,
  );

  it(
    "inpaints with an inpaint_only unit on the request's own image and mask",
    async () => {
      const mask = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } })
        .composite([{ input: await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } }).png().toBuffer(), left: 16, top: 16 }])
        .png()
        .toBuffer();
      const { done } = await runJobToEnd(
        s,
        'generate',
        { task: 'inpaint', prompt: 'a red ball', seed: 3, steps: 3, width: 64, height: 64, image: b64('ctl_shapes_64x64.png'), mask: mask.toString('base64'), strength: 0.75, controlnet: [{ module: 'inpaint_only', model: 'control_tiny_canny' }] },
        JOB_MS,
      );
      const image = done.images[0]!;
      expect([image.width, image.height]).toEqual([64, 64]);
      expect(unitsOf(image.infotext)).toEqual([expect.stringContaining('Module: inpaint_only, Model: control_tiny_canny [93054dcb]')]);
    },
    JOB_MS,
  );
});

// The ADetailer features through the server with the real engine worker (sd1-tiny checkpoint,
// yolo-tiny face detector): the capability, `generate` with an `adetailer` unit (infotext fields
// in the saved PNG), and the `adetailer` action on a gallery image — a queued GPU-lane job with a
// detection preview, progress per detection, the source's own prompt/seed, cancel — plus coded
// refusals; and the A1111 API form `/sdapi/v1/txt2img|img2img` with `alwayson_scripts.ADetailer.args`
// (the leading bools, dict tabs, skipped tabs keeping their suffixes, img2img's noise multiplier).
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, sd1TinyPath } from '../../native/testing/fixtures.js';
import { parseInfotext, readPngTextChunks } from '../infotext/index.js';
import type { CompleteEvent, ErrorEvent, JobStatusEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { RESTORE_FACE_UNAVAILABLE } from '../../native/adetailer/args.js';
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

  const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}`, 'content-type': 'application/json' });
  async function sdapi(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${server.url}/sdapi/v1/${path}`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
    return { status: res.status, json: JSON.parse(await res.text()) as Record<string, unknown> };
  }
  const infotextsOf = (json: Record<string, unknown>): string[] => (JSON.parse(String(json.info)) as { infotexts: string[] }).infotexts;
  /** The first answer image's pixels (its PNG also holds the infotext, which differs between forms). */
  const pixels = async (json: Record<string, unknown>): Promise<string> =>
    (await sharp(Buffer.from((json.images as string[])[0]!, 'base64')).raw().toBuffer()).toString('base64');
  const a1111 = { prompt: 'a face, smiling', negative_prompt: 'ugly', width: 96, height: 64, steps: 3, sampler_name: 'Euler', seed: 77, override_settings: { randn_source: 'CPU' } };

  it('/sdapi/v1/txt2img runs alwayson_scripts.ADetailer.args in every form the extension accepts', async () => {
    const plain = await sdapi('txt2img', a1111);
    expect(plain.status).toBe(200);
    const forms: unknown[][] = [
      [true, false, unit],
      [unit],
      [true, unit], // one leading bool: enable
    ];
    const answers = [];
    for (const args of forms) {
      const r = await sdapi('txt2img', { ...a1111, alwayson_scripts: { ADetailer: { args } } });
      expect(r.status, JSON.stringify(args)).toBe(200);
      answers.push(r.json);
    }
    const fixedPixels = await pixels(answers[0]!);
    for (const r of answers) {
      expect(await pixels(r)).toBe(fixedPixels);
      expect(infotextsOf(r)[0]).toContain('ADetailer model: face_tiny.pt, ADetailer confidence: 0.05, ADetailer method to decide top k masks: Area, ADetailer mask only top k: 1,');
      expect(infotextsOf(r)[0]).toContain('ADetailer version: 25.3.0, Version:');
    }
    expect(fixedPixels).not.toBe(await pixels(plain.json));
    // `enable` false, or only skipped tabs: ADetailer is off — the plain image, no ADetailer keys.
    for (const args of [[false, false, unit], [true, false, { ...unit, ad_tab_enable: false }, { ad_model: 'None' }]]) {
      const off = await sdapi('txt2img', { ...a1111, alwayson_scripts: { ADetailer: { args } } });
      expect(await pixels(off.json)).toBe(await pixels(plain.json));
      expect(infotextsOf(off.json)[0]).not.toContain('ADetailer');
    }
    // A skipped first tab keeps the second tab's " 2nd" suffix, as the extension numbers every tab.
    const second = await sdapi('txt2img', { ...a1111, alwayson_scripts: { ADetailer: { args: [true, false, { ad_model: 'None' }, unit] } } });
    expect(await pixels(second.json)).toBe(fixedPixels);
    expect(infotextsOf(second.json)[0]).toContain('ADetailer model 2nd: face_tiny.pt, ADetailer confidence 2nd: 0.05');
    expect(infotextsOf(second.json)[0]).not.toContain('ADetailer model: ');
  });

  it('/sdapi/v1/img2img with ADetailer and initial_noise_multiplier; infotext order as A1111 writes it', async () => {
    const init = (await sdapi('txt2img', a1111)).json.images as string[];
    const body = { ...a1111, init_images: [init[0]], denoising_strength: 0.5 };
    const ad = { alwayson_scripts: { ADetailer: { args: [true, false, { ...unit, ad_use_noise_multiplier: true, ad_noise_multiplier: 0.75 }] } } };
    const one = await sdapi('img2img', { ...body, ...ad });
    const half = await sdapi('img2img', { ...body, ...ad, initial_noise_multiplier: 0.5 });
    const explicitOne = await sdapi('img2img', { ...body, ...ad, initial_noise_multiplier: 1 });
    expect([one.status, half.status, explicitOne.status]).toEqual([200, 200, 200]);
    expect(await pixels(explicitOne.json)).toBe(await pixels(one.json));
    expect(await pixels(half.json)).not.toBe(await pixels(one.json));
    const text = infotextsOf(half.json)[0]!;
    // ADetailer's keys come first among the extra params (its process() hook runs before p.init()).
    expect(text).toContain('Denoising strength: 0.5, RNG: CPU, ADetailer model: face_tiny.pt,');
    expect(text).toContain('ADetailer use separate noise multiplier: True, ADetailer noise multiplier: 0.75, ADetailer version: 25.3.0, Noise multiplier: 0.5, Version:');
    expect(infotextsOf(one.json)[0]).not.toContain(' Noise multiplier:');
    expect(parseInfotext(text)).toMatchObject({ initial_noise_multiplier: 0.5, adetailer: [expect.objectContaining({ ad_use_noise_multiplier: true, ad_noise_multiplier: 0.75 })] });
  });

  it('/sdapi/v1/options stores ADetailer\'s ad_bbox_sortby setting and refuses unknown orders', async () => {
    expect((await sdapi('options', { ad_bbox_sortby: 'sideways' })).status).toBe(422);
    expect((await sdapi('options', { ad_bbox_sortby: 'Area (large to small)' })).status).toBe(200);
    const view = (await (await fetch(`${server.url}/sdapi/v1/options`, { headers: auth() })).json()) as Record<string, unknown>;
    expect(view.ad_bbox_sortby).toBe('Area (large to small)');
    expect((await sdapi('options', { ad_bbox_sortby: 'None' })).status).toBe(200);
  });

  it('refuses ad_restore_face with the same coded reason on Socket.IO, REST and /sdapi, before any job is queued', async () => {
    const restore = { ...unit, ad_restore_face: true };
    const gen = await call(s, 'generate', { ...base, adetailer: [restore] });
    expect(gen).toMatchObject({ ok: false, error: { code: 'not_implemented', field: 'adetailer.0.ad_restore_face', message: RESTORE_FACE_UNAVAILABLE } });
    const fix = await call(s, 'adetailer', { image_id: sourceId, units: [restore] });
    expect(fix).toMatchObject({ ok: false, error: { code: 'not_implemented', field: 'units.0.ad_restore_face' } });
    const rest = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: auth(), body: JSON.stringify({ kind: 'adetailer', image_id: sourceId, units: [restore] }) });
    expect(rest.status).toBe(501);
    expect(await rest.json()).toMatchObject({ error: { code: 'not_implemented', message: RESTORE_FACE_UNAVAILABLE } });
    const api = await sdapi('txt2img', { ...a1111, alwayson_scripts: { ADetailer: { args: [true, false, restore] } } });
    expect(api.status).toBe(501);
    expect(api.json).toMatchObject({ code: 'not_implemented', feature: 'ad_restore_face', detail: RESTORE_FACE_UNAVAILABLE });
  });

  it('answers coded errors: unknown image, missing detector', async () => {
    expect(await call(s, 'adetailer', { image_id: 'nope', units: [unit] })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const ack = await call(s, 'adetailer', { image_id: sourceId, units: [{ ad_model: 'missing.pt' }] });
    const err = await waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, JOB_MS);
    expect(err.code).toBe('detector_not_found');
  });
});

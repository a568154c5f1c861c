// ControlNet through the server: the extension's /controlnet routes (token, model_list with the
// legacy hash, module_list with aliases and sliders, detect) and the `preprocess` action with the
// real engine worker (canny equal to the fixture's detected map), and the unit checks and
// capability refusals of generate over Socket.IO, the REST job API and /sdapi/v1 (test double).
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../native/io/safetensors.js';
import { fixturePath, sd1TinyPath } from '../../native/testing/fixtures.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, connect, installTinyTokenizer, runJobToEnd, startTestServer, tempDir, type AnySocket, type TestServer } from './helpers.js';

const CN = 'control_tiny_canny [93054dcb]';
const ctl = readFileSync(fixturePath('sd1-controlnet', 'ctl_shapes_64x64.png'));
const ctlB64 = ctl.toString('base64');

async function rawPixels(png: Uint8Array | Buffer): Promise<{ w: number; h: number; data: Buffer }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { w: info.width, h: info.height, data };
}

function modelsDirWithControlNet(dataDir: string): string {
  const models = join(dataDir, 'models');
  mkdirSync(join(models, 'controlnet'), { recursive: true });
  // Copied, not linked: the registry skips symlinks.
  copyFileSync(fixturePath('sd1-controlnet', 'control_tiny_canny.safetensors'), join(models, 'controlnet', 'control_tiny_canny.safetensors'));
  return models;
}

describe('/controlnet routes and the preprocess action (real engine worker)', () => {
  let server: TestServer;
  let s: AnySocket;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const dataDir = tempDir();
    const models = modelsDirWithControlNet(dataDir);
    installTinyTokenizer(models);
    mkdirSync(join(models, 'checkpoints'), { recursive: true });
    symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'model.safetensors'));
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'cn-routes' });
    auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it('needs the token on every /controlnet route', async () => {
    for (const [method, path] of [['GET', 'model_list'], ['GET', 'module_list'], ['POST', 'detect'], ['GET', 'version'], ['GET', 'nope']] as const) {
      const res = await fetch(`${server.url}/controlnet/${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(res.status, path).toBe(401);
    }
    const basic = `Basic ${Buffer.from(`any:${server.token}`).toString('base64')}`;
    expect((await fetch(`${server.url}/controlnet/version`, { headers: { authorization: basic } })).status).toBe(200);
  });

  it('lists the ControlNet models as the extension names them, and their family in get_models', async () => {
    const res = await fetch(`${server.url}/controlnet/model_list`, { headers: auth });
    expect(await res.json()).toEqual({ model_list: [CN] });
    const models = await call(s, 'get_models', { type: 'controlnet' });
    expect(models.models).toEqual([expect.objectContaining({ name: 'control_tiny_canny.safetensors', family: 'sd1' })]);
  });

  it('lists the modules in the extension order, by name or UI label, with slider specs and availability', async () => {
    const byName = (await (await fetch(`${server.url}/controlnet/module_list`, { headers: auth })).json()) as {
      module_list: string[];
      module_detail: Record<string, { model_free: boolean; sliders: { name: string; min: number; max: number; value: number; step: number }[]; available: boolean; unavailable_reason?: string }>;
    };
    expect(byName.module_list[0]).toBe('none');
    expect(byName.module_list).toContain('canny');
    expect(byName.module_list).toContain('depth');
    expect(byName.module_detail.canny!.sliders).toEqual([
      { name: 'Resolution', value: 512, min: 64, max: 2048, step: 8 },
      expect.objectContaining({ name: 'Low Threshold', value: 100, min: 1, max: 255 }),
      expect.objectContaining({ name: 'High Threshold', value: 200, min: 1, max: 255 }),
    ]);
    expect(byName.module_detail.canny!.available).toBe(true);
    expect(byName.module_detail.depth).toMatchObject({ available: false, unavailable_reason: expect.any(String) });
    const byLabel = (await (await fetch(`${server.url}/controlnet/module_list?alias_names=true`, { headers: auth })).json()) as { module_list: string[]; module_detail: Record<string, unknown> };
    expect(byLabel.module_list).toContain('invert (from white bg & black line)');
    expect(byLabel.module_list).not.toContain('invert');
    expect(Object.keys(byLabel.module_detail)).toEqual(byLabel.module_list);
    expect((await fetch(`${server.url}/controlnet/module_list?alias_names=maybe`, { headers: auth })).status).toBe(422);
  });

  it('detects canny edges equal to the fixture (the preprocessor output before any resize mode)', async () => {
    const body = { controlnet_module: 'canny', controlnet_input_images: [ctlB64], controlnet_processor_res: 64, controlnet_threshold_a: 100, controlnet_threshold_b: 200 };
    const res = await fetch(`${server.url}/controlnet/detect`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { info: string; images: string[] };
    expect(out.info).toBe('Success');
    const got = await rawPixels(Buffer.from(out.images[0]!, 'base64'));
    const want = await rawPixels(readFileSync(fixturePath('sd1-controlnet', 'canny_balanced_u0_detected_raw.png')));
    expect([got.w, got.h]).toEqual([want.w, want.h]);
    expect(got.data.equals(want.data)).toBe(true);
  });

  it("answers detect's errors as the extension does, and a module Easel lacks with a coded 501", async () => {
    const post = (body: Record<string, unknown>) => fetch(`${server.url}/controlnet/detect`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    const unknown = await post({ controlnet_module: 'cany', controlnet_input_images: [ctlB64] });
    expect([unknown.status, await unknown.json()]).toEqual([422, { detail: 'Module not available' }]);
    const empty = await post({ controlnet_module: 'canny' });
    expect([empty.status, await empty.json()]).toEqual([422, { detail: 'No image selected' }]);
    const bad = await post({ controlnet_module: 'canny', controlnet_input_images: ['%%%'] });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: { loc: unknown[] }[] }).detail[0]!.loc).toEqual(['body', 'controlnet_input_images', 0]);
    const depth = await post({ controlnet_module: 'depth', controlnet_input_images: [ctlB64] });
    expect(depth.status).toBe(501);
    expect(await depth.json()).toMatchObject({ code: 'not_implemented' });
  });

  it('acks the preprocess action with the hint PNG as binary', async () => {
    const ack = await call(s, 'preprocess', { module: 'canny', image: ctl, processor_res: 64, threshold_a: 100, threshold_b: 200 });
    expect(ack.ok).toBe(true);
    expect(ack).toMatchObject({ mime: 'image/png', width: 64, height: 64, info: { module: 'canny', processor_res: 64 } });
    const got = await rawPixels(Buffer.from(ack.png as ArrayBuffer));
    const want = await rawPixels(readFileSync(fixturePath('sd1-controlnet', 'canny_balanced_u0_detected_raw.png')));
    expect(got.data.equals(want.data)).toBe(true);
    expect((await call(s, 'preprocess', { module: 'cany', image: ctl })).error).toMatchObject({ code: 'invalid_params', field: 'module' });
    expect((await call(s, 'preprocess', { module: 'depth', image: ctl })).error).toMatchObject({ code: 'not_implemented', field: 'module' });
    expect((await call(s, 'preprocess', { module: 'canny', image_id: 'no-such-image' })).error).toMatchObject({ code: 'not_found', field: 'image_id' });
  });
});

describe('ControlNet units in generate (test-double engine)', () => {
  let plain: TestServer;
  let withCn: TestServer;
  let s: AnySocket;
  const unit = { module: 'canny', model: CN, image: ctlB64 };

  beforeAll(async () => {
    plain = await startTestServer();
    const dataDir = tempDir();
    const models = modelsDirWithControlNet(dataDir);
    mkdirSync(join(models, 'checkpoints'), { recursive: true });
    const t = { dtype: 'F32' as const, shape: [1], data: new Float32Array([0]) };
    await writeSafetensors(join(models, 'checkpoints', 'sd1.safetensors'), { 'model.diffusion_model.a': t, 'cond_stage_model.transformer.text_model.b': t });
    await writeSafetensors(join(models, 'checkpoints', 'xl.safetensors'), { 'model.diffusion_model.a': t, 'conditioner.embedders.0.b': t });
    withCn = await startTestServer({}, { dataDir, fakeEnv: { FAKE_CONTROLNET: '1' } });
    s = await connect(withCn.url, { token: withCn.token, client_id: 'cn-units' });
  }, 60_000);
  afterAll(async () => {
    s?.close();
    await plain?.dispose();
    await withCn?.dispose();
  });

  it('answers not_implemented (501) everywhere when the worker has no controlnet capability', async () => {
    const sock = await connect(plain.url, { token: plain.token });
    try {
      const ack = await call(sock, 'generate', { prompt: 'x', controlnet: [unit] });
      expect(ack.error).toMatchObject({ code: 'not_implemented', field: 'controlnet' });
      // A disabled unit is no request for ControlNet.
      expect((await call(sock, 'generate', { prompt: 'x', steps: 1, width: 64, height: 64, controlnet: [{ ...unit, enabled: false }] })).ok).toBe(true);
    } finally {
      sock.close();
    }
    const headers = { authorization: `Bearer ${plain.token}`, 'content-type': 'application/json' };
    const rest = await fetch(`${plain.url}/api/jobs`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'x', controlnet: [unit] }) });
    expect(rest.status).toBe(501);
    expect(await rest.json()).toMatchObject({ error: { code: 'not_implemented', field: 'controlnet' } });
    const sd = await fetch(`${plain.url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: 'x', alwayson_scripts: { controlnet: { args: [{ enabled: true, module: 'canny', model: CN, image: ctlB64 }] } } }),
    });
    expect(sd.status).toBe(501);
    expect(await sd.json()).toMatchObject({ code: 'not_implemented', feature: 'controlnet' });
  });

  it('checks each unit and names unit and field: module, model, family, image', async () => {
    const gen = (units: Record<string, unknown>[], extra: Record<string, unknown> = {}) => call(s, 'generate', { prompt: 'x', model: 'sd1.safetensors', controlnet: units, ...extra });
    expect((await gen([unit, { ...unit, module: 'cany' }])).error).toMatchObject({ code: 'invalid_params', field: 'controlnet.1.module' });
    expect((await gen([{ ...unit, module: 'openpose' }])).error).toMatchObject({ code: 'not_implemented', field: 'controlnet.0.module' });
    expect((await gen([{ ...unit, model: 'control_v11p_sd15_canny [d14c016b]' }])).error).toMatchObject({ code: 'invalid_params', field: 'controlnet.0.model' });
    expect((await gen([unit], { model: 'xl.safetensors' })).error).toMatchObject({ code: 'model_family_mismatch', field: 'controlnet.0.model' });
    expect((await gen([{ module: 'canny', model: CN }])).error).toMatchObject({ code: 'invalid_params', field: 'controlnet.0.image' });
    expect((await gen([unit, unit, unit, unit])).error).toMatchObject({ code: 'invalid_params', field: 'controlnet' });
  });

  it('queues checked units with the model file resolved; a gallery image can be the control image', async () => {
    const first = await runJobToEnd(s, 'generate', { prompt: 'x', steps: 1, width: 64, height: 64, model: 'sd1.safetensors', controlnet: [{ ...unit, model: 'control_tiny_canny' }] });
    const units = first.done.metadata.controlnet_units as Record<string, unknown>[];
    expect(units).toEqual([expect.objectContaining({ model: 'control_tiny_canny.safetensors', module: 'canny', image: ctl.byteLength, resize_mode: 'Crop and Resize' })]);
    const imageId = first.done.images[0]!.id;
    const second = await runJobToEnd(s, 'generate', { prompt: 'x', steps: 1, width: 64, height: 64, controlnet: [{ module: 'none', model: CN, image_id: imageId }] });
    const got = (second.done.metadata.controlnet_units as Record<string, unknown>[])[0]!;
    expect(got.image).toBeGreaterThan(0);
    expect(got).not.toHaveProperty('image_id');
  });

  it('translates /sdapi/v1 alwayson_scripts.controlnet.args as the extension reads them', async () => {
    const headers = { authorization: `Bearer ${withCn.token}`, 'content-type': 'application/json' };
    const post = (args: unknown[]) =>
      fetch(`${withCn.url}/sdapi/v1/txt2img`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ prompt: 'x', steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: 'sd1' }, alwayson_scripts: { ControlNet: { args } } }),
      });
    const ok = await post([{ enabled: true, module: 'canny', model: CN, input_image: ctlB64, resize_mode: 0, control_mode: 1, guidance: 0.5, low_vram: false, hr_option: 'Both' }]);
    expect(ok.status).toBe(200);
    const bad = await post([{ enabled: false }, { enabled: true, module: 'canny', model: CN, image: ctlB64, weight: 5 }]);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: { loc: unknown[] }[] }).detail[0]!.loc).toEqual(['body', 'alwayson_scripts', 'ControlNet', 'args', 1, 'weight']);
    const unknownModel = await post([{ enabled: true, module: 'canny', model: 'nope [12345678]', image: ctlB64 }]);
    expect(unknownModel.status).toBe(422);
    expect(await unknownModel.json()).toMatchObject({ code: 'invalid_params' });
    const weighting = await post([{ enabled: true, module: 'canny', model: CN, image: ctlB64, advanced_weighting: [1, 1] }]);
    expect(weighting.status).toBe(501);
  });
});

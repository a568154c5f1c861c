// The server with the real engine worker and the tiny SDXL checkpoint (../shared/fixtures/sdxl-tiny):
// the model list shows the family, txt2img / img2img / inpaint jobs run from a socket.io-client with
// the A1111 infotext, and a LoRA made for SD1 is refused with a coded error.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomLora } from '../../native/lora/test/make-lora.js';
import { sdxlTinyPath } from '../../native/testing/fixtures.js';
import { parseInfotext } from '../infotext/index.js';
import type { CompleteEvent, ErrorEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, connect, startTestServer, tempDir, waitFor, installTinyTokenizer, type AnySocket, type TestServer } from './helpers.js';

const JOB_MS = 240_000;

describe('SDXL through the server with the real engine', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;
  let txt2imgPng: Buffer;

  beforeAll(async () => {
    dataDir = tempDir();
    const models = join(dataDir, 'models');
    installTinyTokenizer(models);
    mkdirSync(join(models, 'checkpoints'), { recursive: true });
    copyFileSync(sdxlTinyPath('model.safetensors'), join(models, 'checkpoints', 'xl-tiny.safetensors'));
    mkdirSync(join(models, 'loras'), { recursive: true });
    await writeRandomLora(join(models, 'loras', 'sd1_style.safetensors'), [{ name: 'lora_te_text_model_encoder_layers_0_self_attn_q_proj', shape: [32, 32] }], { seed: 1 });
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'sdxl-test' });
  }, 120_000);
  afterAll(async () => {
    s?.close();
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function runJob(params: Record<string, unknown>): Promise<CompleteEvent> {
    const ack = await call(s, 'generate', { model: 'xl-tiny.safetensors', ...params });
    expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true });
    const jobId = ack.job_id as string;
    const failed = waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === jobId, JOB_MS).then((e) => {
      throw new Error(`job failed: ${e.code}: ${e.message}`);
    });
    return Promise.race([waitFor<CompleteEvent>(s, 'complete', (e) => e.job_id === jobId, JOB_MS), failed]);
  }

  async function fetchBytes(url: string): Promise<Buffer> {
    const res = await fetch(new URL(url, server.url));
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  it('lists the checkpoint as SDXL and the SD1 LoRA as SD1', async () => {
    const checkpoints = (await call(s, 'get_models', { type: 'checkpoint' })).models as { name: string; family?: string }[];
    expect(checkpoints.find((m) => m.name === 'xl-tiny.safetensors')?.family).toBe('sdxl');
    const loras = (await call(s, 'get_models', { type: 'lora' })).models as { name: string; family?: string }[];
    expect(loras.find((m) => m.name === 'sd1_style.safetensors')?.family).toBe('sd1');
  });

  it('txt2img, then img2img and inpaint on its output', async () => {
    const done = await runJob({ prompt: 'a (red:1.2) house', negative_prompt: '', width: 64, height: 64, steps: 3, cfg_scale: 5, sampler: 'Euler a', seed: 7, rng: 'cpu' });
    const info = parseInfotext(done.images[0]!.infotext);
    expect(info.fields['Model']).toBe('xl-tiny');
    expect(info.fields['Model hash']).toBe('da0d854bac');
    txt2imgPng = await fetchBytes(done.images[0]!.url);

    const i2i = await runJob({ task: 'img2img', prompt: 'a house at night', image: txt2imgPng.toString('base64'), strength: 0.5, width: 64, height: 64, steps: 4, sampler: 'euler', seed: 8 });
    expect(parseInfotext(i2i.images[0]!.infotext).fields['Denoising strength']).toBe('0.5');

    const px = Buffer.alloc(64 * 64);
    for (let y = 16; y < 40; y++) for (let x = 16; x < 40; x++) px[y * 64 + x] = 255;
    const mask = await sharp(px, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
    const inp = await runJob({ task: 'inpaint', prompt: 'a window', image: txt2imgPng.toString('base64'), mask: mask.toString('base64'), mask_blur: 0, strength: 0.8, width: 64, height: 64, steps: 3, sampler: 'euler', seed: 9 });
    const [orig, out] = await Promise.all([
      sharp(txt2imgPng).removeAlpha().raw().toBuffer(),
      sharp(await fetchBytes(inp.images[0]!.url)).removeAlpha().raw().toBuffer(),
    ]);
    expect(out[(2 * 64 + 2) * 3]).toBe(orig[(2 * 64 + 2) * 3]); // unmasked pixels are the original's
    expect(out.equals(orig)).toBe(false);
  }, JOB_MS);

  it('refuses an SD1 LoRA on the SDXL checkpoint with model_family_mismatch', async () => {
    const ack = await call(s, 'generate', { model: 'xl-tiny.safetensors', prompt: 'a cat <lora:sd1_style:1>', width: 64, height: 64, steps: 2, sampler: 'euler', seed: 1 });
    expect(ack).toMatchObject({ ok: true });
    const err = await waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === ack.job_id, JOB_MS);
    expect(err.code).toBe('model_family_mismatch');
    expect(err.message).toMatch(/SD 1\.x/);
  }, JOB_MS);
});

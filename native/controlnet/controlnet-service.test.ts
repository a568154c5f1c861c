// ControlNet through the worker's GenerationService: units in the extension's field names with the
// model given by its `name [hash8]` title from $MODELS_DIR/controlnet, the A1111 image and infotext
// of the fixture case, png-info reading the units back; the same unit with img2img and with the
// hires fix (second pass at the hires size); a missing model refused before any work.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationService } from '../generation-service.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import type { RunHooks, RunOutput } from '../worker-protocol.js';
import { CAPABILITIES } from '../worker.js';
import { formatInfotext, parseInfotext } from '../../server/infotext/index.js';
import { toInfotextParams } from '../../server/jobs/result-infotext.js';
import type { Job } from '../../server/jobs/job.js';
import { cnFixturePath } from './test-fixture.js';

interface Case {
  name: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  controlnet_units: Record<string, unknown>[];
  expected_png: string;
  infotext: string;
}

const c = (JSON.parse(readFileSync(cnFixturePath('e2e.json'), 'utf8')) as { cases: Case[] }).cases.find((x) => x.name === 'canny_balanced')!;
let root: string;
let service: GenerationService;

const hooks = (): RunHooks => ({ signal: new AbortController().signal, previewEvery: 0, onProgress: () => undefined, onPreview: () => undefined });
const units = () => c.controlnet_units.map((u) => ({ ...u, image: new Uint8Array(readFileSync(cnFixturePath(u.image as string))) }));
const params = (extra: Record<string, unknown> = {}) => ({
  model: 'tiny.safetensors', prompt: c.prompt, negative_prompt: c.negative_prompt, width: c.width, height: c.height, steps: c.steps,
  cfg_scale: c.cfg_scale, sampler: 'euler', scheduler: 'automatic', seed: c.seed, rng: 'cpu', controlnet: units(), ...extra,
});
const infotextOf = (out: RunOutput, p: Record<string, unknown>) => formatInfotext(toInfotextParams({ id: 'j', kind: 'generate', params: p } as unknown as Job, out.images[0]!, out.info));
const rgb = async (png: Uint8Array) => new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'easel-cn-service-'));
  const models = join(root, 'models');
  for (const d of ['checkpoints', 'controlnet', 'tokenizers/clip-vit-large-patch14']) mkdirSync(join(models, d), { recursive: true });
  symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(models, 'tokenizers', 'clip-vit-large-patch14', f));
  symlinkSync(cnFixturePath('control_tiny_canny.safetensors'), join(models, 'controlnet', 'control_tiny_canny.safetensors'));
  service = new GenerationService({ modelsDir: models, device: 'cpu' });
});

afterAll(async () => {
  await service?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('ControlNet in the worker', () => {
  it('announces the capability', () => expect(CAPABILITIES.controlnet).toBe(true));

  it('runs a unit by its model title: the A1111 image and infotext; png-info reads the unit back', async () => {
    const p = params();
    const out = await service.run(p, hooks());
    const [got, want] = await Promise.all([rgb(out.images[0]!.png), rgb(new Uint8Array(readFileSync(cnFixturePath(c.expected_png))))]);
    let off = 0;
    for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1) off++;
    expect(off / want.length).toBeLessThanOrEqual(0.01);
    const text = infotextOf(out, p);
    expect(text).toContain(c.infotext.slice(c.infotext.indexOf('ControlNet 0: '), c.infotext.indexOf(', Version')));
    const back = parseInfotext(text).controlnet;
    expect(back).toEqual([{
      enabled: true, module: 'canny', model: 'control_tiny_canny [93054dcb]', weight: 1, resize_mode: 'Crop and Resize', processor_res: 512,
      threshold_a: 100, threshold_b: 200, guidance_start: 0, guidance_end: 1, pixel_perfect: true, control_mode: 'Balanced',
    }]);
  }, 60_000);

  it('works with img2img and with the hires fix (both passes)', async () => {
    const init = new Uint8Array(readFileSync(cnFixturePath('ctl_rings_64x64.png')));
    const plainImg2img = await service.run({ ...params(), controlnet: undefined, task: 'img2img', image: init, strength: 0.6 }, hooks());
    const img2img = await service.run({ ...params(), task: 'img2img', image: init, strength: 0.6 }, hooks());
    expect(Buffer.compare(Buffer.from(await rgb(img2img.images[0]!.png)), Buffer.from(await rgb(plainImg2img.images[0]!.png)))).not.toBe(0);
    const hires = { enabled: true, scale: 1.5, denoising_strength: 0.5, steps: 2 };
    const plain = await service.run({ ...params(), controlnet: undefined, hires }, hooks());
    const withCn = await service.run({ ...params(), hires }, hooks());
    expect([withCn.images[0]!.width, withCn.images[0]!.height]).toEqual([96, 96]);
    expect(Buffer.compare(Buffer.from(await rgb(withCn.images[0]!.png)), Buffer.from(await rgb(plain.images[0]!.png)))).not.toBe(0);
  }, 120_000);

  it('refuses a model that is not in the controlnet folder, naming it', async () => {
    const p = params({ controlnet: [{ ...units()[0], model: 'control_missing [12345678]' }] });
    await expect(service.run(p, hooks())).rejects.toMatchObject({ code: 'controlnet_not_found', message: expect.stringContaining('control_missing') });
  });
});

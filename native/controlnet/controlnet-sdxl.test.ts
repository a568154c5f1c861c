// SDXL ControlNets (no reference outputs exist for them in the fixtures): a random ControlNet with
// the sdxl-tiny UNet's encoder opens as an SDXL ControlNet (label_emb, linear projections, per-level
// depths), runs inside an SDXL generation with its 10 residuals shaped as the UNet's skips, changes
// the image, and an SD 1.x ControlNet is refused on the SDXL checkpoint.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../models/checkpoint.js';
import { generate } from '../pipelines/generate.js';
import { loadEngine, type Engine } from '../pipelines/engine.js';
import type { GenerateRequest } from '../pipelines/types.js';
import { unetResidualShapes } from '../runtime/runners.js';
import { sd1TinyPath, sdxlTinyPath } from '../testing/fixtures.js';
import { openControlNet } from './controlnet-file.js';
import { writeRandomControlNet } from './random-controlnet.js';
import { cnFixturePath } from './test-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-cn-sdxl-'));
const file = join(dir, 'control_sdxl_tiny.safetensors');
let engine: Engine;

beforeAll(async () => {
  const ckpt = await openCheckpoint(sdxlTinyPath('model.safetensors'));
  await writeRandomControlNet(file, ckpt.config.unet, { seed: 7, dtype: 'F16' });
  await ckpt.close();
  engine = await loadEngine(sdxlTinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache') });
}, 60_000);
afterAll(async () => {
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const request = (controlnet?: GenerateRequest['controlnet']): GenerateRequest => ({
  task: 'txt2img', prompt: 'a red sports car', negative_prompt: '', width: 64, height: 64, steps: 3, cfg_scale: 6.5, sampler: 'euler',
  scheduler: 'automatic', seed: 5, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1, controlnet,
});
const unit = (model: string) => ({ module: 'canny', model, image: readFileSync(cnFixturePath('ctl_shapes_64x64.png')), pixel_perfect: true });

describe('SDXL ControlNet', () => {
  it('opens as SDXL with the UNet encoder config', async () => {
    const f = await openControlNet(file);
    expect(f.config.family).toBe('sdxl');
    expect(f.config.unet.adm_in_channels).toBe(engine.config.unet.adm_in_channels);
    expect(f.config.unet.use_linear_in_transformer).toBe(true);
    expect(f.config.unet.channel_mult).toEqual(engine.config.unet.channel_mult);
    await f.close();
  });

  it('adds its residuals to every SDXL skip and the middle block, and changes the image', async () => {
    const seen: (readonly Float32Array[] | null)[] = [];
    const resources = { resolveControlNet: (n: string) => n };
    const [plain, controlled] = [
      await generate(engine, request(), {}, resources),
      await generate(engine, request([unit(file)]), { onControlNetResiduals: (_c, r) => seen.push(r) }, resources),
    ];
    expect(seen).toHaveLength(3);
    const shapes = unetResidualShapes(engine.config.unet, { batch: 2, h: 8, w: 8, tokens: 77 });
    expect(seen[0]!.map((r) => r.length)).toEqual(shapes.map((s) => s.reduce((a, b) => a * b, 1)));
    expect(seen[0]!.every((r) => r.some((v) => v !== 0))).toBe(true);
    expect(Buffer.compare(Buffer.from(controlled.images[0]!.rgb.data), Buffer.from(plain.images[0]!.rgb.data))).not.toBe(0);
    expect(controlled.params.extra.find(([k]) => k === 'ControlNet 0')?.[1]).toMatch(/^Module: canny, Model: control_sdxl_tiny \[[0-9a-f]{8}\], Weight: 1\.0,/);
  }, 60_000);

  it('refuses an SD 1.x ControlNet on an SDXL checkpoint', async () => {
    const err = await generate(engine, request([unit(cnFixturePath('control_tiny_canny.safetensors'))]), {}, { resolveControlNet: (n) => n }).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).toBe('controlnet_family_mismatch');
  });
});

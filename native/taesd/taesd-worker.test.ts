// The worker end to end on the sd1-tiny checkpoint: it advertises `taesd`, and with a TAESD file in
// $MODELS_DIR/vae-approx its live previews come from the TAESD decoder (full image size, 96×64),
// without one (or with only the SDXL decoder, or with LIVE_PREVIEW_METHOD=cheap) from the cheap
// projection (latent size, 12×8). A broken TAESD file never fails the generation.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GenerationService, type GenerationServiceOptions } from '../generation-service.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { CAPABILITIES } from '../worker.js';
import type { RunHooks } from '../worker-protocol.js';
import { writeRandomTaesd } from './random-taesd.js';

let root: string;
let models: string;
const params = { model: 'tiny.safetensors', prompt: 'a cat', negative_prompt: '', width: 96, height: 64, steps: 4, cfg_scale: 7, sampler: 'euler', scheduler: 'automatic', seed: 5, rng: 'cpu' };

let service: GenerationService;

// No budget here: the tiny UNet's steps take milliseconds, so 5 % of them would hold TAESD back.
const makeService = (opts: Partial<GenerationServiceOptions> = {}) => new GenerationService({ modelsDir: models, device: 'cpu', previewBudget: 1, ...opts });

async function previewSizes(svc: GenerationService = service): Promise<string[]> {
  const jpegs: Uint8Array[] = [];
  const hooks: RunHooks = { signal: new AbortController().signal, previewEvery: 1, onProgress: () => {}, onPreview: (_s, j) => jpegs.push(j) };
  const out = await svc.run(params, hooks);
  expect(out.images).toHaveLength(1);
  expect(jpegs.length).toBe(3); // steps 1..3; the last step has the final image instead
  return Promise.all(jpegs.map(async (j) => {
    const m = await sharp(j).metadata();
    return `${m.width}x${m.height}`;
  }));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'easel-taesd-worker-'));
  models = join(root, 'models');
  for (const d of ['checkpoints', 'vae-approx', 'tokenizers/clip-vit-large-patch14']) mkdirSync(join(models, d), { recursive: true });
  symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(models, 'tokenizers', 'clip-vit-large-patch14', f));
  service = makeService();
});

afterAll(async () => {
  await service?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('TAESD live previews in the worker', () => {
  it('advertises the taesd capability', () => {
    expect(CAPABILITIES.taesd).toBe(true);
  });

  it('previews at latent size with the cheap method while no SD1 TAESD is installed', async () => {
    await writeRandomTaesd(join(models, 'vae-approx', 'taesdxl.safetensors'), 'diffusers', { channels: 8 });
    expect(await previewSizes()).toEqual(['12x8', '12x8', '12x8']);
  }, 60_000);

  it('previews at full image size with the installed TAESD decoder', async () => {
    await writeRandomTaesd(join(models, 'vae-approx', 'taesd.safetensors'), 'diffusers', { channels: 8 });
    expect(await previewSizes()).toEqual(['96x64', '96x64', '96x64']);
    const cheap = makeService({ previewMethod: 'cheap' });
    try {
      expect(await previewSizes(cheap)).toEqual(['12x8', '12x8', '12x8']);
    } finally {
      await cheap.dispose();
    }
  }, 60_000);

  it('falls back to the cheap preview when the TAESD file is broken, and the job still succeeds', async () => {
    writeFileSync(join(models, 'vae-approx', 'taesd.safetensors'), 'truncated');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await previewSizes()).toEqual(['12x8', '12x8', '12x8']);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/taesd\.safetensors is not usable, previews use the cheap method/));
    } finally {
      warn.mockRestore();
    }
  }, 60_000);
});

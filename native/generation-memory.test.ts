// ENGINE_MEMORY through the worker's service on the sd1-tiny checkpoint: 'low' re-opens the text
// encoder, UNet and VAE for every image (each freed while another part ran) and gives the same
// pixels as 'normal', which keeps them all; 'lowest' also splits CFG steps into rows. All use the load
// cache under $MODELS_DIR/.cache/load.
import { mkdirSync, mkdtempSync, copyFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationService } from './generation-service.js';
import { loadEngine } from './pipelines/engine.js';
import { UNET_CPU_WINOGRAD } from './graph/ops-winograd.js';
import type { EngineMemorySetting } from './runtime/memory-mode.js';
import { sd1TinyPath } from './testing/fixtures.js';
import type { RunHooks } from './worker-protocol.js';

let root: string;
let models: string;
const params = { model: 'tiny.safetensors', prompt: 'a cat', negative_prompt: '', width: 64, height: 64, steps: 2, cfg_scale: 7, sampler: 'euler', scheduler: 'automatic', seed: 5, rng: 'cpu' };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'easel-memory-'));
  models = join(root, 'models');
  for (const d of ['checkpoints', 'tokenizers/clip-vit-large-patch14']) mkdirSync(join(models, d), { recursive: true });
  symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(models, 'tokenizers', 'clip-vit-large-patch14', f));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two images in one service; the parts that became ready during the second one, and its PNG. */
async function twoImages(memory: EngineMemorySetting): Promise<{ reopened: string[]; png: Uint8Array }> {
  const service = new GenerationService({ modelsDir: models, device: 'cpu', memory });
  try {
    const details: string[] = [];
    const hooks: RunHooks = { signal: new AbortController().signal, previewEvery: 0, onProgress: () => {}, onPreview: () => {}, onPhase: (p, info) => {
      if (p === 'loading_model' && info?.detail) details.push(info.detail);
    } };
    await service.run(params, hooks);
    expect(details.length).toBeGreaterThan(0); // the first image loads every part
    details.length = 0;
    const out = await service.run(params, hooks);
    return { reopened: [...new Set(details.filter((d) => d.endsWith(': ready')).map((d) => d.replace(/: ready$/, '')))].sort(), png: out.images[0]!.png };
  } finally {
    await service.dispose();
  }
}

describe('ENGINE_MEMORY in the generation service', () => {
  it("'low' and 'lowest' re-open every part for the next image from the load cache, with the same pixels as 'normal'", async () => {
    const normal = await twoImages('normal');
    const low = await twoImages('low');
    expect(normal.reopened).toEqual([]);
    expect(low.reopened).toEqual(['UNet', 'VAE decoder', 'text encoder']);
    expect(Buffer.from(low.png).equals(Buffer.from(normal.png))).toBe(true);
    // 'lowest' also runs the cond and uncond rows of each CFG step one at a time: same parts, same pixels
    const lowest = await twoImages('lowest');
    expect(lowest.reopened).toEqual(['UNet', 'VAE decoder', 'text encoder']);
    expect(Buffer.from(lowest.png).equals(Buffer.from(normal.png))).toBe(true);
  }, 180_000);

  it('what each mode loads: one part at a time (low, lowest), CFG rows one at a time (lowest), the Winograd UNet (normal)', async () => {
    for (const [memory, rows, winograd] of [['normal', undefined, UNET_CPU_WINOGRAD], ['low', undefined, undefined], ['lowest', 1, undefined]] as const) {
      const engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), memory });
      try {
        expect(engine.model.unet.maxBatch).toBe(rows);
        expect(engine.model.unet.winograd).toEqual(winograd);
      } finally {
        await engine.dispose();
      }
    }
  });
});

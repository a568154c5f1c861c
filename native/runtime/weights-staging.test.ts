// Loading weights through a temporary file ('disk') must give exactly the session that in-memory
// external data gives, hooks included, and leave no staging folder behind.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { createEngineRuntime } from './ort-backend.js';
import { loadDiffusionModel } from './diffusion-model.js';

let ckpt: Checkpoint;
beforeAll(async () => {
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
});
afterAll(async () => {
  await ckpt?.close();
});

async function unetOut(via: 'memory' | 'disk', stagingDir?: string, perturb = false): Promise<Float32Array> {
  const runtime = await createEngineRuntime({ device: 'cpu' });
  const key = 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight';
  const model = await loadDiffusionModel(ckpt, {
    runtime,
    weightsVia: via,
    stagingDir,
    weightHook: perturb ? (k, w) => (k === key ? w.map((v, i) => (i === 0 ? v + 0.5 : v)) : w) : undefined,
  });
  try {
    const dims = { batch: 1, h: 8, w: 8, tokens: 77 };
    const x = new Float32Array(4 * 64).map((_, i) => Math.sin(i));
    const ctx = new Float32Array(77 * 32).map((_, i) => Math.cos(i) * 0.1);
    return await model.unet.eps(x, new Float32Array([500]), ctx, dims);
  } finally {
    await model.dispose();
  }
}

describe('weights staged on disk', () => {
  it('give the same UNet output as in-memory external data, and clean up', async () => {
    const staging = mkdtempSync(join(tmpdir(), 'easel-staging-test-'));
    const [mem, disk] = await Promise.all([unetOut('memory'), unetOut('disk', staging)]);
    expect(disk.length).toBe(mem.length);
    expect(Array.from(disk)).toEqual(Array.from(mem));
    expect(readdirSync(staging)).toEqual([]);
  });

  it('apply the weight hook too', async () => {
    const [plain, hooked] = await Promise.all([unetOut('disk'), unetOut('disk', undefined, true)]);
    let maxDiff = 0;
    for (let i = 0; i < plain.length; i++) maxDiff = Math.max(maxDiff, Math.abs(plain[i]! - hooked[i]!));
    expect(maxDiff).toBeGreaterThan(1e-3);
  });
});

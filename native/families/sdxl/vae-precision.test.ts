// NaN-safe VAE (issue: "never hand the user a black image"): the SDXL VAE overflows float16 on some
// latents. A VAE graph lowered to fp16 whose output holds NaN/Inf is run again in float32, as
// A1111's "revert VAE to 32-bit floats" does; a float32 VAE (the engine's default) never needs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { maxAbsDiff } from '../../models/graph-test-utils.js';
import { loadDiffusionModel } from '../../runtime/diffusion-model.js';
import { createEngineRuntime } from '../../runtime/ort-backend.js';
import type { WeightHook } from '../../runtime/weights.js';
import { sdxlTinyPath } from '../../testing/fixtures.js';

let ckpt: Checkpoint;
beforeAll(async () => {
  ckpt = await openCheckpoint(sdxlTinyPath('model.safetensors'));
});
afterAll(async () => {
  await ckpt?.close();
});

// Scales the decoder's first conv so that its activations pass float16's 65504.
const overflow: WeightHook = (key, w) => (key === 'first_stage_model.decoder.conv_in.weight' ? w.map((v) => v * 2e5) : w);

describe('VAE decode precision', () => {
  it('an fp16 VAE that overflows is redone in float32 and matches the float32 VAE', async () => {
    const z = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i) * 3);
    const fp16 = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu', precision: 'fp16' }), precision: { vae: 'fp16' }, weightHook: overflow });
    const fp32 = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }), weightHook: overflow });
    try {
      const want = await fp32.vae.decode(z, { batch: 1, h: 8, w: 8 });
      expect(want.every(Number.isFinite)).toBe(true);
      const got = await fp16.vae.decode(z, { batch: 1, h: 8, w: 8 });
      expect(fp16.vae.fp32Fallbacks).toBe(1);
      expect(got.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-3);
      expect(fp32.vae.fp32Fallbacks).toBe(0);
    } finally {
      await fp16.dispose();
      await fp32.dispose();
    }
  });
});

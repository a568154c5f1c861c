// The fp16 lowering (meant for the CUDA provider) runs on the CPU provider too, where ORT inserts
// casts around kernels that lack fp16. That lets this machine check it numerically: fp16 weights
// and activations agree with the float32 references to fp16 precision.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint.js';
import { FIXTURE_TOLERANCE, maxAbsDiff, openTinyCheckpoint, readFixture } from './graph-test-utils.js';
import { buildUNetGraph } from './unet-graph.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel } from '../runtime/diffusion-model.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';

// binary16 has an 11-bit significand (relative step 2^-10 ≈ 1e-3) and outputs here reach |2|.
const FP16_TOLERANCE = 2e-2;

let ckpt: Checkpoint;
let model: DiffusionModel;

beforeAll(async () => {
  ckpt = await openTinyCheckpoint();
  model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu', precision: 'fp16' }), precision: { vae: 'fp16' } });
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
});

describe('fp16 lowering', () => {
  it('stores weights as float16 except the GroupNorm affine parameters (float32 statistics)', () => {
    const g = buildUNetGraph(ckpt.config.unet, { batch: 1, height: 8, width: 8, tokens: 77, precision: 'fp16', weightShape: (k) => ckpt.shape(k) });
    const byKey = new Map(g.weights.map((w) => [w.key, w.dtype]));
    expect(byKey.get('model.diffusion_model.input_blocks.1.0.in_layers.2.weight')).toBe('float16');
    expect(byKey.get('model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight')).toBe('float16');
    expect(byKey.get('model.diffusion_model.input_blocks.1.0.in_layers.0.weight')).toBe('float32');
    expect(g.inputs.every((v) => v.dtype === 'float32') && g.outputs.every((v) => v.dtype === 'float32')).toBe(true);
  });

  it('text encoder, UNet and VAE agree with the float32 references to fp16 precision', async () => {
    const te = await readFixture('text_encoder.safetensors');
    const hidden = await model.textEncoder.encode(Int32Array.from(te.input_ids.data), 4);
    const teDiff = maxAbsDiff(hidden, te.last_hidden_state.data);

    const un = await readFixture('unet.safetensors');
    const eps = await model.unet.eps(un['t999_500.x'].data, un['t999_500.t'].data, un['t999_500.context'].data, { batch: 2, h: 8, w: 8, tokens: 77 });
    const unetDiff = maxAbsDiff(eps, un['t999_500.eps'].data);

    const vae = await readFixture('vae.safetensors');
    const image = await model.vae.decode(vae['decode.z'].data, { batch: 1, h: 8, w: 8 });
    const vaeDiff = maxAbsDiff(image, vae['decode.image'].data);

    for (const d of [teDiff, unetDiff, vaeDiff]) {
      expect(d).toBeLessThan(FP16_TOLERANCE);
      // it really ran in half precision: float32 would be ~1e-6 away
      expect(d).toBeGreaterThan(FIXTURE_TOLERANCE / 10);
    }
  });
});

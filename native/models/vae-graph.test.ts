// The VAE decoder and encoder graphs against ldm AutoencoderKL outputs in the sd1-tiny fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint.js';
import { FIXTURE_TOLERANCE, keyListShapes, maxAbsDiff, openTinyCheckpoint, readFixture } from './graph-test-utils.js';
import { SD15_CONFIG } from './config.js';
import { VAE_PREFIX } from './family.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from './vae-graph.js';
import type { FixtureTensor } from './graph-test-utils.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel } from '../runtime/diffusion-model.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';

let ckpt: Checkpoint;
let model: DiffusionModel;
let fx: Record<string, FixtureTensor>;
const DIMS = { batch: 1, h: 8, w: 8 };

beforeAll(async () => {
  ckpt = await openTinyCheckpoint();
  model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }) });
  fx = await readFixture('vae.safetensors');
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
});

describe('VAE graphs (sd1-tiny)', () => {
  it('decode: decoder(post_quant_conv(z)) within 1e-4', async () => {
    const image = await model.vae.decode(fx['decode.z'].data, DIMS);
    expect(image.length).toBe(3 * 64 * 64);
    expect(maxAbsDiff(image, fx['decode.image'].data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('decode_wh: a second latent', async () => {
    const image = await model.vae.decode(fx['decode_wh.z'].data, DIMS);
    expect(maxAbsDiff(image, fx['decode_wh.image'].data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('decode_first_stage: decode(z / scale_factor)', async () => {
    const scale = ckpt.config.scale_factor;
    const z = fx['decode.z'].data.map((v) => v / scale);
    const image = await model.vae.decode(z, DIMS);
    expect(maxAbsDiff(image, fx['decode_first_stage.image'].data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('encode: quant_conv(encoder(x)) moments within 1e-4, and their mean/logvar halves', async () => {
    const moments = await model.vae.encodeMoments(fx['encode.image'].data, DIMS);
    expect(moments.length).toBe(8 * 8 * 8);
    expect(maxAbsDiff(moments, fx['encode.moments'].data)).toBeLessThan(FIXTURE_TOLERANCE);
    const half = 4 * 8 * 8;
    expect(maxAbsDiff(moments.subarray(0, half), fx['encode.mean'].data)).toBeLessThan(FIXTURE_TOLERANCE);
    const logvar = moments.subarray(half).map((v) => Math.min(20, Math.max(-30, v)));
    expect(maxAbsDiff(logvar, fx['encode.logvar'].data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('rejects a latent of the wrong size', async () => {
    await expect(model.vae.decode(fx['decode.z'].data, { batch: 1, h: 8, w: 16 })).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('VAE graphs bind every VAE key of the full-size SD1.5 key list', () => {
  it('decoder + encoder together use all first_stage_model tensors with their shapes', () => {
    const { shape, keys } = keyListShapes('sd15.json');
    const dec = buildVaeDecoderGraph(SD15_CONFIG.vae, { batch: 1, height: 64, width: 64, weightShape: shape });
    const enc = buildVaeEncoderGraph(SD15_CONFIG.vae, { batch: 1, height: 64, width: 64, weightShape: shape });
    expect(dec.outputs[0].shape).toEqual([1, 3, 512, 512]);
    expect(enc.outputs[0].shape).toEqual([1, 8, 64, 64]);
    const used = new Set([...dec.weights, ...enc.weights].map((w) => w.key));
    expect(used).toEqual(new Set(keys.filter((k) => k.startsWith(VAE_PREFIX))));
  });
});

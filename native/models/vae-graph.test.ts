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
import { materializeWeights } from '../runtime/weights.js';
import { CPU_WINOGRAD } from '../graph/ops-winograd.js';
import type { BuiltGraph } from '../graph/builder.js';
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

  it('every 3×3 convolution by Winograd stays within 1e-4 of the fixture (decode, encode) and of the direct graph on a latent of no whole tiles', async () => {
    const runtime = await createEngineRuntime({ device: 'cpu' });
    const all = { minChannels: 1, maxActivation: Infinity };
    const opts = { batch: 1, height: 8, width: 8, weightShape: (k: string) => ckpt.shape(k), winograd: all };
    const runGraph = async (built: BuiltGraph, input: string, data: Float32Array, dims: number[]) => {
      const session = await runtime.createSession(built, await materializeWeights(built, ckpt));
      try {
        return (await session.run({ [input]: { dtype: 'float32', data, dims } }))[built.outputs[0].name];
      } finally {
        await session.dispose();
      }
    };
    const dec = buildVaeDecoderGraph(ckpt.config.vae, opts);
    const enc = buildVaeEncoderGraph(ckpt.config.vae, opts);
    // every resnet convolution; the in/out ones too where both sides have a channel (conv_out: 3)
    expect(dec.weights.filter((w) => w.winograd).length).toBeGreaterThanOrEqual(16);
    expect(enc.weights.filter((w) => w.winograd).length).toBeGreaterThanOrEqual(12);
    const image = await runGraph(dec, 'z', fx['decode.z'].data, [1, 4, 8, 8]);
    expect(maxAbsDiff(image, fx['decode.image'].data)).toBeLessThan(FIXTURE_TOLERANCE);
    const moments = await runGraph(enc, 'image', fx['encode.image'].data, [1, 3, 64, 64]);
    expect(maxAbsDiff(moments, fx['encode.moments'].data)).toBeLessThan(FIXTURE_TOLERANCE);
    // a latent that is not whole tiles at any level (5×7 → 40×56 px) against the direct graph
    const odd = { ...opts, height: 5, width: 7 };
    const z = fx['decode.z'].data.slice(0, 4 * 5 * 7);
    const direct = await runGraph(buildVaeDecoderGraph(ckpt.config.vae, { ...odd, winograd: undefined }), 'z', z, [1, 4, 5, 7]);
    const wino = await runGraph(buildVaeDecoderGraph(ckpt.config.vae, odd), 'z', z, [1, 4, 5, 7]);
    expect(wino.length).toBe(3 * 40 * 56);
    expect(maxAbsDiff(wino, direct)).toBeLessThan(FIXTURE_TOLERANCE);
    const img = fx['encode.image'].data.slice(0, 3 * 40 * 56);
    const encDirect = await runGraph(buildVaeEncoderGraph(ckpt.config.vae, { ...odd, winograd: undefined }), 'image', img, [1, 3, 40, 56]);
    const encWino = await runGraph(buildVaeEncoderGraph(ckpt.config.vae, odd), 'image', img, [1, 3, 40, 56]);
    expect(maxAbsDiff(encWino, encDirect)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('the CPU runner uses the CPU Winograd policy', () => {
    expect(model.vae.winograd).toEqual(CPU_WINOGRAD);
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

  it('CPU_WINOGRAD at 512²: the 128- to 512-channel convolutions below the 512² level, F(4×4)', () => {
    const { shape } = keyListShapes('sd15.json');
    const opts = { batch: 1, height: 64, width: 64, weightShape: shape, winograd: CPU_WINOGRAD };
    const wino = (g: BuiltGraph) => g.weights.filter((w) => w.winograd).map((w) => w.key.slice(VAE_PREFIX.length));
    const dec = wino(buildVaeDecoderGraph(SD15_CONFIG.vae, opts));
    // mid (4) + up.3 (6) + up.2 (6) + up.1 (5: its first conv reads 512 channels at 256², over the
    // activation bound); not conv_in (4 channels), up.0 (512² level) or conv_out (3 channels)
    expect(dec).toHaveLength(21);
    expect(dec).not.toContain('decoder.up.1.block.0.conv1.weight');
    expect(dec.every((k) => /^decoder\.(mid|up\.[123])\./.test(k))).toBe(true);
    const enc = wino(buildVaeEncoderGraph(SD15_CONFIG.vae, opts));
    // down.1 (4) + down.2 (4) + down.3 (4) + mid (4); not conv_in, down.0 (512² level) or conv_out (8 channels)
    expect(enc).toHaveLength(16);
    expect(enc.every((k) => /^encoder\.(mid|down\.[123])\./.test(k))).toBe(true);
    expect(buildVaeDecoderGraph(SD15_CONFIG.vae, opts).weights.filter((w) => w.winograd).every((w) => w.winograd === 4)).toBe(true);
  });
});

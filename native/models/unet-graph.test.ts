// The UNet graph against ldm UNetModel outputs (with A1111's skip-resize patch) in the sd1-tiny
// fixture, and a check that the comparison notices a single perturbed or swapped weight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint.js';
import { FIXTURE_TOLERANCE, keyListShapes, maxAbsDiff, openTinyCheckpoint, readFixture } from './graph-test-utils.js';
import { SD15_CONFIG, SDXL_BASE_CONFIG } from './config.js';
import { sd1KeySpec, sdxlKeySpec } from './key-spec.js';
import { UNET_PREFIX } from './family.js';
import type { FixtureTensor } from './graph-test-utils.js';
import { buildUNetContextGraph, buildUNetGraph, unetCrossAttentionLayers, UNET_INPUTS, UNET_OUTPUT } from './unet-graph.js';
import { timestepFrequencies } from './unet-blocks.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel } from '../runtime/diffusion-model.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';
import type { WeightHook } from '../runtime/weights.js';
import { materializeWeights } from '../runtime/weights.js';
import { UNET_CPU_WINOGRAD } from '../graph/ops-winograd.js';
import type { WinogradPolicy } from '../graph/ops-winograd.js';

let ckpt: Checkpoint;
let runtime: EngineRuntime;
let model: DiffusionModel;
let fx: Record<string, FixtureTensor>;

const CASES = ['t999_500', 't1_250', 't999_500_ctx154', 't_fractional', 'latent8x12_t700'];

beforeAll(async () => {
  ckpt = await openTinyCheckpoint();
  runtime = await createEngineRuntime({ device: 'cpu' });
  model = await loadDiffusionModel(ckpt, { runtime, maxSessionsPerPart: 4 });
  fx = await readFixture('unet.safetensors');
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
});

async function evalCase(m: DiffusionModel, name: string): Promise<Float32Array> {
  const [batch, , h, w] = fx[`${name}.x`].shape;
  const tokens = fx[`${name}.context`].shape[1];
  return m.unet.eps(fx[`${name}.x`].data, fx[`${name}.t`].data, fx[`${name}.context`].data, { batch, h, w, tokens });
}

describe('UNet graph (sd1-tiny)', () => {
  for (const name of CASES) {
    it(`${name}: eps within 1e-4`, async () => {
      const eps = await evalCase(model, name);
      expect(eps.length).toBe(fx[`${name}.eps`].data.length);
      expect(maxAbsDiff(eps, fx[`${name}.eps`].data)).toBeLessThan(FIXTURE_TOLERANCE);
    });
  }

  it('inserts nearest resizes only where skip sizes differ (latent 8×12); upsamplers are phase convs', () => {
    const counts = (h: number, w: number) =>
      buildUNetGraph(ckpt.config.unet, { batch: 1, height: h, width: w, tokens: 77, weightShape: (k) => ckpt.shape(k) }).opCounts;
    // 8×8: only the three ×2 upsamplers (inputs 1² to 4²: plain Resize + conv, ops-upconv.ts). 8×12
    // (widths 12 → 6 → 3 → 2): the upsampled 2×4 meets the 2×3 skip at the first concat of output
    // level 2, once; later concats there match again. 64×64: upsampler inputs 8² to 32² are phase
    // convolutions (one DepthToSpace each, no Resize).
    expect(counts(8, 8).Resize).toBe(3);
    expect(counts(8, 12).Resize).toBe(4);
    expect(counts(64, 64).Resize ?? 0).toBe(0);
    expect(counts(64, 64).DepthToSpace).toBe(3);
  });

  it('every ResBlock 3×3 convolution by Winograd stays within 1e-4 of the fixture (8×8 and 8×12 latents: F(2×2), partial tiles)', async () => {
    const all: WinogradPolicy = { minChannels: 1, maxActivation: Infinity, minArea: 0 };
    for (const name of ['t999_500', 'latent8x12_t700']) {
      const [batch, , h, w] = fx[`${name}.x`].shape;
      const tokens = fx[`${name}.context`].shape[1];
      const built = buildUNetGraph(ckpt.config.unet, { batch, height: h, width: w, tokens, weightShape: (k) => ckpt.shape(k), winograd: all });
      // two per ResBlock: 2 per input level, 1 + 1 in the middle, 3 per output level
      const levels = ckpt.config.unet.channel_mult.length;
      expect(built.weights.filter((b) => b.winograd).length).toBe(2 * (levels * ckpt.config.unet.num_res_blocks + 2 + levels * (ckpt.config.unet.num_res_blocks + 1)));
      const session = await runtime.createSession(built, await materializeWeights(built, ckpt));
      try {
        const feeds = {
          [UNET_INPUTS.x]: { dtype: 'float32' as const, data: fx[`${name}.x`].data, dims: [batch, 4, h, w] },
          [UNET_INPUTS.t]: { dtype: 'float32' as const, data: fx[`${name}.t`].data, dims: [batch] },
          [UNET_INPUTS.context]: { dtype: 'float32' as const, data: fx[`${name}.context`].data, dims: [batch, tokens, ckpt.config.unet.context_dim] },
        };
        const eps = (await session.run(feeds))[UNET_OUTPUT];
        expect(maxAbsDiff(eps, fx[`${name}.eps`].data)).toBeLessThan(FIXTURE_TOLERANCE);
      } finally {
        await session.dispose();
      }
    }
  });

  it('the CPU runner uses the UNet Winograd policy, except in one-part-at-a-time (low memory) mode or when turned off', async () => {
    expect(model.unet.winograd).toEqual(UNET_CPU_WINOGRAD);
    for (const opts of [{ onePartAtATime: true }, { unetWinograd: false }]) {
      const other = await loadDiffusionModel(ckpt, { runtime, ...opts });
      expect(other.unet.winograd).toBeUndefined();
      await other.dispose();
    }
    const forced = await loadDiffusionModel(ckpt, { runtime, onePartAtATime: true, unetWinograd: true });
    expect(forced.unet.winograd).toEqual(UNET_CPU_WINOGRAD);
    await forced.dispose();
  });

  it('maxBatch 1 runs a CFG batch row by row: the fixture within 1e-4, the batched result within 1e-6, one batch-1 session', async () => {
    const rows = await loadDiffusionModel(ckpt, { runtime, unetMaxBatch: 1 });
    try {
      expect(rows.unet.maxBatch).toBe(1);
      for (const name of ['t999_500', 't999_500_ctx154']) {
        expect(fx[`${name}.x`].shape[0]).toBe(2);
        const eps = await evalCase(rows, name);
        expect(maxAbsDiff(eps, fx[`${name}.eps`].data)).toBeLessThan(FIXTURE_TOLERANCE);
        expect(maxAbsDiff(eps, await evalCase(model, name))).toBeLessThan(1e-6);
      }
      expect(rows.sessionsCreated().unet).toBe(2); // batch 1 at 77 and at 154 tokens, never batch 2
      await rows.unet.prepare({ batch: 2, h: 8, w: 8, tokens: 77 }); // prepares the batch-1 session it will run
      expect(rows.sessionsCreated().unet).toBe(2);
    } finally {
      await rows.dispose();
    }
  });

  it('cross-attention K/V from the context graph: the fixture within 1e-4 both ways, equal to the in-graph projection within 1e-6', async () => {
    expect(model.unet.contextRuns).toBeGreaterThan(0); // the CPU default: the cases above ran through it
    const plain = await loadDiffusionModel(ckpt, { runtime, unetContextKV: false, maxSessionsPerPart: 4 });
    try {
      for (const name of CASES) {
        const eps = await evalCase(plain, name);
        expect(maxAbsDiff(eps, fx[`${name}.eps`].data)).toBeLessThan(FIXTURE_TOLERANCE);
        expect(maxAbsDiff(eps, await evalCase(model, name))).toBeLessThan(1e-6);
      }
      expect(plain.unet.contextRuns).toBe(0);
      expect(plain.sessionsCreated()['unet-context']).toBe(0);
    } finally {
      await plain.dispose();
    }
  });

  it('the context graph is on for the CPU and off for CUDA unless asked for', async () => {
    expect(model.unet.contextKV).toBeDefined();
    const noGpu = () => Promise.reject(new Error('no GPU in tests'));
    const cudaLike: EngineRuntime = { device: 'cuda', precision: 'fp16', ortVersion: 'test', createSession: noGpu, createSessionFromFile: noGpu };
    const onCuda = await loadDiffusionModel(ckpt, { runtime: cudaLike });
    expect(onCuda.unet.contextKV).toBeUndefined();
    const forced = await loadDiffusionModel(ckpt, { runtime: cudaLike, unetContextKV: true });
    expect(forced.unet.contextKV).toBeDefined();
    const off = await loadDiffusionModel(ckpt, { runtime, unetContextKV: false });
    expect(off.unet.contextKV).toBeUndefined();
    await Promise.all([onCuda.dispose(), forced.dispose(), off.dispose()]);
  });

  it('the context graph runs once per context and weights, not per step', async () => {
    const m = await loadDiffusionModel(ckpt, { runtime });
    try {
      const name = 't999_500';
      const [batch, , h, w] = fx[`${name}.x`].shape;
      const ctx = fx[`${name}.context`].data;
      const dims = { batch, h, w, tokens: 77 };
      const first = await m.unet.eps(fx[`${name}.x`].data, fx[`${name}.t`].data, ctx, dims);
      await m.unet.eps(fx[`${name}.x`].data, new Float32Array([700, 700]), ctx.slice(), dims); // same bytes, another array
      expect(m.unet.contextRuns).toBe(1);
      const edited = ctx.slice();
      edited[5] += 0.5; // prompt editing: another context from this step on
      const other = await m.unet.eps(fx[`${name}.x`].data, fx[`${name}.t`].data, edited, dims);
      expect(m.unet.contextRuns).toBe(2);
      expect(maxAbsDiff(other, first)).toBeGreaterThan(1e-6);
      expect(Array.from(await m.unet.eps(fx[`${name}.x`].data, fx[`${name}.t`].data, ctx, dims))).toEqual(Array.from(first)); // back: still kept
      expect(m.unet.contextRuns).toBe(2);
      // other UNet weights (a LoRA) make other K/V from the same context
      const perturbed = async (key: string) => {
        const data = await ckpt.readFloat32(key);
        if (!key.endsWith('input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight')) return data;
        const out = Float32Array.from(data);
        out[0] += 0.5;
        return out;
      };
      m.useWeights('unet', { id: 'lora-test', source: { shape: (k) => ckpt.shape(k), readFloat32: perturbed } });
      const lora = await m.unet.eps(fx[`${name}.x`].data, fx[`${name}.t`].data, ctx, dims);
      expect(m.unet.contextRuns).toBe(3);
      expect(maxAbsDiff(lora, first)).toBeGreaterThan(1e-6);
    } finally {
      await m.dispose();
    }
  });

  it('keeps the K/V of the last 4 contexts', async () => {
    const m = await loadDiffusionModel(ckpt, { runtime });
    try {
      const x = fx['t999_500.x'].data.subarray(0, fx['t999_500.x'].data.length / 2);
      const dims = { batch: 1, h: 8, w: 8, tokens: 77 };
      const ctx = (i: number) => new Float32Array(77 * ckpt.config.unet.context_dim).map((_, j) => Math.sin(j * (i + 1)) * 0.1);
      for (let i = 0; i < 5; i++) await m.unet.eps(x, new Float32Array([500]), ctx(i), dims);
      expect(m.unet.contextRuns).toBe(5);
      await m.unet.eps(x, new Float32Array([500]), ctx(1), dims); // contexts 1–4 are kept
      await m.unet.eps(x, new Float32Array([500]), ctx(4), dims);
      expect(m.unet.contextRuns).toBe(5);
      await m.unet.eps(x, new Float32Array([500]), ctx(0), dims); // the oldest was dropped
      expect(m.unet.contextRuns).toBe(6);
    } finally {
      await m.dispose();
    }
  });

  it('the UNet graph with context K/V takes exactly what the context graph makes (SD1.5 and SDXL layouts), and no context', () => {
    for (const [config, spec] of [[SD15_CONFIG, sd1KeySpec(SD15_CONFIG)], [SDXL_BASE_CONFIG, sdxlKeySpec(SDXL_BASE_CONFIG)]] as const) {
      const cfg = config.unet;
      const shapes = new Map(spec.map((k) => [k.key, k.shape]));
      const weightShape = (k: string) => shapes.get(k);
      const layers = unetCrossAttentionLayers(cfg);
      expect(layers.length).toBe(config === SD15_CONFIG ? 16 : 70);
      const ctx = buildUNetContextGraph(cfg, { batch: 2, tokens: 77, weightShape });
      const unet = buildUNetGraph(cfg, { batch: 2, height: 8, width: 8, tokens: 77, contextKV: true, weightShape });
      const made = ctx.outputs.map((o) => `${o.name}:${o.shape.join('x')}`).sort();
      const taken = unet.inputs.filter((i) => i.name !== UNET_INPUTS.x && i.name !== UNET_INPUTS.t && i.name !== UNET_INPUTS.y).map((i) => `${i.name}:${i.shape.join('x')}`).sort();
      expect(taken).toEqual(made);
      expect(made.length).toBe(2 * layers.length);
      // the UNet holds no to_k / to_v of a cross-attention layer; the context graph only those
      expect(unet.weights.some((b) => /attn2\.to_[kv]\./.test(b.key))).toBe(false);
      expect(ctx.weights.every((b) => /attn2\.to_[kv]\.weight$/.test(b.key))).toBe(true);
    }
  });

  it('timestep frequencies are float32 exp(-ln(10000)·i/half)', () => {
    const f = timestepFrequencies(16);
    expect(f[0]).toBe(1);
    for (let i = 0; i < 16; i++) expect(Math.abs(f[i] - Math.exp((-Math.log(10000) * i) / 16))).toBeLessThan(1e-7);
    expect(f.every((v) => Math.fround(v) === v)).toBe(true);
  });

  it('rejects inputs whose length does not match the dims', async () => {
    const x = fx['t999_500.x'].data;
    await expect(model.unet.eps(x, new Float32Array(2), fx['t999_500.context'].data, { batch: 2, h: 8, w: 9, tokens: 77 })).rejects.toMatchObject({
      code: 'bad_input',
    });
  });
});

describe('the comparison is sensitive to the weights', () => {
  const name = 't999_500';
  const conv = 'model.diffusion_model.input_blocks.4.0.in_layers.2.weight';

  async function withHook(hook: WeightHook): Promise<number> {
    const m = await loadDiffusionModel(ckpt, { runtime, weightHook: hook });
    try {
      return maxAbsDiff(await evalCase(m, name), fx[`${name}.eps`].data);
    } finally {
      await m.dispose();
    }
  }

  it('adding 1e-2 to one element of one UNet conv exceeds the tolerance', async () => {
    const diff = await withHook((key, w) => {
      if (key !== conv) return w;
      const out = w.slice();
      out[0] += 1e-2;
      return out;
    });
    expect(diff).toBeGreaterThan(FIXTURE_TOLERANCE);
  });

  it('swapping attn1.to_q and attn1.to_k of one block exceeds the tolerance', async () => {
    const q = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight';
    const k = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight';
    const qData = await ckpt.readFloat32(q);
    const kData = await ckpt.readFloat32(k);
    const diff = await withHook((key, w) => (key === q ? kData : key === k ? qData : w));
    expect(diff).toBeGreaterThan(FIXTURE_TOLERANCE);
  });

  it('an identity hook keeps the result within tolerance', async () => {
    expect(await withHook((_, w) => w)).toBeLessThan(FIXTURE_TOLERANCE);
  });
});

describe('UNet graph binds every UNet key of the full-size key lists', () => {
  it('SD1.5: all 686 tensors, with their exact shapes', () => {
    const { shape, keys } = keyListShapes('sd15.json');
    const g = buildUNetGraph(SD15_CONFIG.unet, { batch: 2, height: 64, width: 64, tokens: 77, weightShape: shape });
    const unetKeys = keys.filter((k) => k.startsWith(UNET_PREFIX));
    expect(unetKeys.length).toBe(686);
    expect(new Set(g.weights.map((w) => w.key))).toEqual(new Set(unetKeys));
    expect(g.outputs[0].shape).toEqual([2, 4, 64, 64]);
    expect(g.opCounts.MultiHeadAttention).toBe(32); // 16 transformers × (self + cross)
  });

  it('UNET_CPU_WINOGRAD: F(4×4) on the 320-channel ResBlocks of a 512² image (64×64 maps) only', () => {
    const { shape } = keyListShapes('sd15.json');
    const wino = (size: number) =>
      buildUNetGraph(SD15_CONFIG.unet, { batch: 2, height: size, width: size, tokens: 77, weightShape: shape, winograd: UNET_CPU_WINOGRAD }).weights.filter((w) => w.winograd);
    const at512 = wino(64);
    // input_blocks 1, 2 and output_blocks 9, 10, 11: in_layers.2 and out_layers.3 of each ResBlock
    expect(at512.map((w) => w.key.slice(UNET_PREFIX.length)).sort()).toEqual(
      ['input_blocks.1', 'input_blocks.2', 'output_blocks.10', 'output_blocks.11', 'output_blocks.9'].flatMap((b) => [`${b}.0.in_layers.2.weight`, `${b}.0.out_layers.3.weight`]),
    );
    expect(at512.every((w) => w.winograd === 4 && w.shape[0] === 36)).toBe(true);
    expect(wino(32)).toHaveLength(0); // 256²: every map under 64×64
  });

  it('SD2.1: linear proj_in/proj_out, 64-channel heads, 1024-wide context', () => {
    const { shape, keys } = keyListShapes('sd21_v.json');
    const cfg = { ...SD15_CONFIG.unet, num_head_channels: 64, context_dim: 1024, use_linear_in_transformer: true };
    const g = buildUNetGraph(cfg, { batch: 1, height: 96, width: 96, tokens: 77, weightShape: shape });
    expect(new Set(g.weights.map((w) => w.key))).toEqual(new Set(keys.filter((k) => k.startsWith(UNET_PREFIX))));
    // with conv proj_in the [320, 320] linear weights would not fit: the build itself checks shapes
    expect(() => buildUNetGraph({ ...cfg, use_linear_in_transformer: false }, { batch: 1, height: 8, width: 8, tokens: 77, weightShape: shape })).toThrow();
  });
});

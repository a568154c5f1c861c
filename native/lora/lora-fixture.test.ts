// The LoRA case of ../shared/fixtures/sd1-tiny (README §11): A1111's merged weights, UNet eps and
// conditioning at multiplier 0.8, reproduced through the merge cache and the ONNX model parts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel, type DiffusionModel } from '../runtime/diffusion-model.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { loadClipTokenizer, type ClipTokenizer } from '../text/clip-tokenizer.js';
import { buildConditioning } from '../text/conditioning.js';
import { loadConditioningCases } from '../text/test/fixture-data.js';
import { loraAddnetHash, readLoraFile, type LoraNetwork } from './lora-file.js';
import { appliedLora, mergeWeight, type AppliedLora } from './lora-merge.js';
import { MergedLoraCache } from './merged-cache.js';

const TOL = 1e-4;

let ckpt: Checkpoint;
let net: LoraNetwork;
let outputs: SafetensorsFile;
let unetCases: SafetensorsFile;
let cacheDir: string;
let hash: string;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  net = await readLoraFile(sd1TinyPath('lora.safetensors'), (k) => ckpt.shape(k));
  outputs = await SafetensorsFile.open(sd1TinyPath('lora_outputs.safetensors'));
  unetCases = await SafetensorsFile.open(sd1TinyPath('unet.safetensors'));
  cacheDir = mkdtempSync(join(tmpdir(), 'easel-lora-test-'));
  hash = await loraAddnetHash(sd1TinyPath('lora.safetensors'));
});

afterAll(async () => {
  await ckpt?.close();
  await outputs?.close();
  await unetCases?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const at = (w: number): AppliedLora[] => [appliedLora(net, hash, w)];

describe('LoRA file of the fixture', () => {
  it('has 296 modules (278 UNet, 18 text encoder) and nothing skipped', () => {
    expect(net.modules.size).toBe(296);
    expect(net.skipped).toEqual([]);
    expect([...net.modules.keys()].filter((k) => k.startsWith('cond_stage_model.'))).toHaveLength(18);
  });

  it('merges to the stored merged_weight tensors (linear, 1x1 and 3x3 conv)', async () => {
    const keys = outputs.keys().filter((k) => k.startsWith('merged_weight.'));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => outputs.info(k)!.shape.length === 4)).toBe(true);
    for (const k of keys) {
      const target = k.slice('merged_weight.'.length);
      const merged = mergeWeight(target, await ckpt.readFloat32(target), ckpt.shape(target)!, at(0.8));
      expect(maxAbsDiff(merged, await outputs.readFloat32(k)), target).toBeLessThan(1e-6);
      // and the merge did change the weight
      expect(maxAbsDiff(merged, await ckpt.readFloat32(target))).toBeGreaterThan(1e-3);
    }
  });

  it('addnet hash is the sha256 of the data after the header', () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('LoRA through the engine', () => {
  let model: DiffusionModel;
  let tok: ClipTokenizer;
  let cache: MergedLoraCache;

  beforeAll(async () => {
    model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }) });
    tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
    cache = new MergedLoraCache({ dir: cacheDir });
  });
  afterAll(async () => {
    await model?.dispose();
    await cache?.close();
  });

  const eps = async (): Promise<Float32Array> =>
    model.unet.eps(await unetCases.readFloat32('t999_500.x'), await unetCases.readFloat32('t999_500.t'), await outputs.readFloat32('unet.context'), {
      batch: 2, h: 8, w: 8, tokens: 77,
    });
  const cond = async (): Promise<Float32Array> =>
    (await buildConditioning(loadConditioningCases().emphasis.prompt, { tokenizer: tok, encodeChunk: (ids, b, o) => model.textEncoder.encode(ids, b, o) })).data;

  it('base model reproduces eps_base and cond_base', async () => {
    expect(maxAbsDiff(await eps(), await outputs.readFloat32('unet.eps_base'))).toBeLessThan(TOL);
    expect(maxAbsDiff(await cond(), await outputs.readFloat32('cond_base'))).toBeLessThan(TOL);
  });

  it('merged at 0.8 reproduces eps_lora and cond_lora; the cache is hit on the second use', async () => {
    const te = await cache.variant(ckpt, 'tiny', 'textEncoder', at(0.8));
    const unet = await cache.variant(ckpt, 'tiny', 'unet', at(0.8));
    expect(cache.merges).toBe(2);
    model.useWeights('textEncoder', te);
    model.useWeights('unet', unet);
    const e = await eps();
    expect(maxAbsDiff(e, await outputs.readFloat32('unet.eps_lora'))).toBeLessThan(TOL);
    expect(maxAbsDiff(e, await outputs.readFloat32('unet.eps_base'))).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(await cond(), await outputs.readFloat32('cond_lora'))).toBeLessThan(TOL);

    // Back to the base weights, then the same set again: no merge, and the sessions are reused.
    model.useWeights('unet', null);
    expect(maxAbsDiff(await eps(), await outputs.readFloat32('unet.eps_base'))).toBeLessThan(TOL);
    const created = model.sessionsCreated().unet;
    const again = await cache.variant(ckpt, 'tiny', 'unet', at(0.8));
    expect(cache.merges).toBe(2);
    expect(again?.id).toBe(unet?.id);
    model.useWeights('unet', again);
    expect(maxAbsDiff(await eps(), await outputs.readFloat32('unet.eps_lora'))).toBeLessThan(TOL);
    expect(model.sessionsCreated().unet).toBe(created);
  });

  it('clip skip 2 on the merged text encoder equals clip skip 2 on weights merged by a hook', async () => {
    const te = await cache.variant(ckpt, 'tiny', 'textEncoder', at(0.8));
    model.useWeights('textEncoder', te);
    const hooked = await loadDiffusionModel(ckpt, {
      runtime: await createEngineRuntime({ device: 'cpu' }),
      weightHook: (key, w) => (net.modules.has(key) ? mergeWeight(key, w, ckpt.shape(key)!, at(0.8)) : w),
    });
    try {
      const prompt = loadConditioningCases().emphasis.prompt;
      const viaCache = await buildConditioning(prompt, { tokenizer: tok, clipSkip: 2, encodeChunk: (i, b, o) => model.textEncoder.encode(i, b, o) });
      const viaHook = await buildConditioning(prompt, { tokenizer: tok, clipSkip: 2, encodeChunk: (i, b, o) => hooked.textEncoder.encode(i, b, o) });
      expect(maxAbsDiff(viaCache.data, viaHook.data)).toBeLessThan(1e-6);
      expect(maxAbsDiff(viaCache.data, await cond())).toBeGreaterThan(1e-3);
    } finally {
      await hooked.dispose();
    }
  });

  it('a set that leaves a part unchanged gives no variant for it', async () => {
    const unetOnly: AppliedLora[] = [appliedLora(net, hash, 0, 0.8)];
    expect(await cache.variant(ckpt, 'tiny', 'textEncoder', unetOnly)).toBeNull();
  });
});

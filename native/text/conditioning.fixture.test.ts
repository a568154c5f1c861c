// buildConditioning end to end against A1111's conditioning tensors (conditioning.safetensors):
// real tokenizer, real chunking and emphasis, and the engine's ONNX text encoder (native/runtime)
// on the sd1-tiny checkpoint. Tolerance 1e-4 abs, as the fixture README states.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel, type DiffusionModel } from '../runtime/diffusion-model.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { loadClipTokenizer, type ClipTokenizer } from './clip-tokenizer.js';
import { buildConditioning, type ConditioningDeps } from './conditioning.js';
import { loadConditioningCases } from './test/fixture-data.js';

const TOLERANCE = 1e-4;
const cases = loadConditioningCases();

let ckpt: Checkpoint;
let model: DiffusionModel;
let tok: ClipTokenizer;
let expected: SafetensorsFile;

beforeAll(async () => {
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }) });
  tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
  expected = await SafetensorsFile.open(sd1TinyPath('conditioning.safetensors'));
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
  await expected?.close();
});

function deps(clipSkip: number): ConditioningDeps {
  return { tokenizer: tok, clipSkip, encodeChunk: (ids, batch, opts) => model.textEncoder.encode(ids, batch, opts) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('buildConditioning vs conditioning.safetensors', () => {
  const runs: Array<[key: string, prompt: string, clipSkip: number]> = [
    ...Object.entries(cases).map(([name, c]): [string, string, number] => [`cond.${name}`, c.prompt, 1]),
    ['cond.emphasis.clip_skip2', cases.emphasis.prompt, 2],
  ];

  it('covers all seven stored tensors', () => {
    expect(runs.map((r) => r[0]).sort()).toEqual(expected.keys().sort());
  });

  for (const [key, prompt, clipSkip] of runs) {
    it(`${key} within ${TOLERANCE}`, async () => {
      const want = await expected.readFloat32(key);
      const got = await buildConditioning(prompt, deps(clipSkip));
      expect([1, got.tokens, got.channels]).toEqual(expected.info(key)!.shape);
      expect(maxAbsDiff(got.data, want)).toBeLessThan(TOLERANCE);
    });
  }

  it('emphasis changes the result (the weights are not ignored)', async () => {
    const want = await expected.readFloat32('cond.emphasis');
    const flat = await buildConditioning(cases.emphasis.prompt, { ...deps(1), emphasis: 'Ignore' });
    expect(maxAbsDiff(flat.data, want)).toBeGreaterThan(1e-3);
  });
});

// The text encoder graph against transformers' CLIPTextModel outputs in the sd1-tiny fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint.js';
import { FIXTURE_TOLERANCE, keyListShapes, maxAbsDiff, openTinyCheckpoint, readFixture } from './graph-test-utils.js';
import { SD15_CONFIG, clipLConfig } from './config.js';
import { CLIP_L_PREFIX } from './family.js';
import type { FixtureTensor } from './graph-test-utils.js';
import { buildClipTextGraph } from './clip-text-graph.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel } from '../runtime/diffusion-model.js';
import type { DiffusionModel } from '../runtime/diffusion-model.js';
import { materializeWeights } from '../runtime/weights.js';

let ckpt: Checkpoint;
let runtime: EngineRuntime;
let model: DiffusionModel;
let fx: Record<string, FixtureTensor>;
let ids: Int32Array;
const BATCH = 4;

beforeAll(async () => {
  ckpt = await openTinyCheckpoint();
  runtime = await createEngineRuntime({ device: 'cpu' });
  model = await loadDiffusionModel(ckpt, { runtime });
  fx = await readFixture('text_encoder.safetensors');
  ids = Int32Array.from(fx.input_ids.data);
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
});

describe('CLIP text encoder graph (sd1-tiny)', () => {
  it('last_hidden_state (clip skip 1) within 1e-4', async () => {
    const out = await model.textEncoder.encode(ids, BATCH);
    expect(out.length).toBe(BATCH * 77 * 32);
    expect(maxAbsDiff(out, fx.last_hidden_state.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('clip skip 2 = final LayerNorm over the penultimate layer', async () => {
    const out = await model.textEncoder.encode(BigInt64Array.from(ids, (v) => BigInt(v)), BATCH, { clipSkip: 2 });
    expect(maxAbsDiff(out, fx.clip_skip2.data)).toBeLessThan(FIXTURE_TOLERANCE);
    // and it is not the same as the last layer
    expect(maxAbsDiff(out, fx.last_hidden_state.data)).toBeGreaterThan(1e-2);
  });

  it('raw hidden_states of every layer (no final LayerNorm)', async () => {
    for (const skip of [1, 2, 3]) {
      const graph = buildClipTextGraph(clipLConfig(ckpt.config), { batch: BATCH, clipSkip: skip, finalLayerNorm: false, weightShape: (k) => ckpt.shape(k) });
      const session = await runtime.createSession(graph, await materializeWeights(graph, ckpt));
      try {
        const out = await session.run({ input_ids: { dtype: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [BATCH, 77] } });
        expect(maxAbsDiff(out.hidden, fx[`hidden_states.${4 - skip}`].data)).toBeLessThan(FIXTURE_TOLERANCE);
      } finally {
        await session.dispose();
      }
    }
  });

  it('batch 1 gives the same rows as batch 4', async () => {
    const out = await model.textEncoder.encode(ids.subarray(77, 154), 1);
    expect(maxAbsDiff(out, fx.last_hidden_state.data.subarray(77 * 32, 154 * 32))).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('rejects bad input with coded errors', async () => {
    await expect(model.textEncoder.encode(ids.subarray(0, 70), 1)).rejects.toMatchObject({ code: 'bad_input' });
    await expect(model.textEncoder.encode(ids.subarray(0, 77), 1, { clipSkip: 4 })).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('text encoder graph binds every CLIP-L key of the full-size SD1.5 key list', () => {
  it('all text model tensors but position_ids (positions are always 0..76), with their shapes', () => {
    const { shape, keys } = keyListShapes('sd15.json');
    const g = buildClipTextGraph(SD15_CONFIG.clip_text, { batch: 1, clipSkip: 1, weightShape: shape });
    const expected = keys.filter((k) => k.startsWith(CLIP_L_PREFIX) && !k.endsWith('position_ids'));
    expect(new Set(g.weights.map((w) => w.key))).toEqual(new Set(expected));
    expect(g.outputs[0].shape).toEqual([1, 77, 768]);
    // clip skip 2 leaves the last layer out of the graph
    const skip2 = buildClipTextGraph(SD15_CONFIG.clip_text, { batch: 1, clipSkip: 2, weightShape: shape });
    expect(skip2.weights.some((w) => w.key.includes('encoder.layers.11.'))).toBe(false);
    expect(skip2.weights.some((w) => w.key.includes('encoder.layers.10.'))).toBe(true);
  });
});

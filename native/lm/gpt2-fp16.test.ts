// The fp16 lowering of the GPT-2 graph (meant for CUDA) run on the CPU provider, where ORT inserts
// casts around kernels without fp16: weights and activations in half precision, attention scores
// and softmax in float32, float32 inputs and outputs (the KV cache crosses as float32).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { fixturePath } from '../testing/fixtures.js';
import { buildGpt2Graph } from './gpt2-graph.js';
import { Gpt2Model } from './gpt2-model.js';
import { openGpt2Weights } from './gpt2-weights.js';

const V = 50257;
// binary16 keeps 11 significant bits; logits here reach |15|, so a few 1e-2 after two layers.
const FP16_TOLERANCE = 0.1;

let model: Gpt2Model;
beforeAll(async () => {
  model = await Gpt2Model.load(fixturePath('gpt2-tiny'), { runtime: await createEngineRuntime({ device: 'cpu', precision: 'fp16', intraOpThreads: 1 }) });
});
afterAll(async () => {
  await model?.dispose();
});

describe('GPT-2 fp16 lowering', () => {
  it('stores the weights as float16 with float32 inputs and outputs', async () => {
    const w = await openGpt2Weights(fixturePath('gpt2-tiny'));
    const g = buildGpt2Graph(model.config, { precision: 'fp16', weightShape: (k) => w.shape(k) });
    await w.close();
    expect(g.weights.every((w) => w.dtype === 'float16')).toBe(true);
    expect(g.inputs.filter((v) => v.dtype !== 'int64').every((v) => v.dtype === 'float32')).toBe(true);
    expect(g.outputs.every((v) => v.dtype === 'float32')).toBe(true);
  });

  it('agrees with the float32 reference logits to half precision, cache steps included', async () => {
    const fwd = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'forward.safetensors'));
    const p = (JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'forward.json'), 'utf8')) as { prompts: { ids: number[]; T: number }[] }).prompts[1];
    const ref = await fwd.readFloat32('p1.logits_last3');
    await fwd.close();
    const full = await model.forward(p.ids, model.emptyCache());
    let diff = 0;
    const last3 = full.logits.subarray((p.T - 3) * V);
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(last3[i] - ref[i]));
    expect(diff).toBeLessThan(FP16_TOLERANCE);
    expect(diff).toBeGreaterThan(1e-5); // it really ran in half precision
    // the last token through the cache gives the full pass's last row
    const prefix = await model.forward(p.ids.slice(0, -1), model.emptyCache());
    const step = await model.forward(p.ids.slice(-1), prefix.cache);
    let stepDiff = 0;
    for (let i = 0; i < V; i++) stepDiff = Math.max(stepDiff, Math.abs(step.logits[i] - ref[2 * V + i]));
    expect(stepDiff).toBeLessThan(FP16_TOLERANCE);
  });
});

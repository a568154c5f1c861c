// The GPT-2 graph against transformers 4.30 on the gpt2-tiny checkpoint (fixture README §4, §5):
// logits at every position, and KV-cache steps equal to full recomputation.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { fixturePath } from '../testing/fixtures.js';
import { Gpt2Model } from './gpt2-model.js';

const DIR = fixturePath('gpt2-tiny');
const TOL = 1e-4;
const V = 50257;

interface ForwardPrompt { key: string; ids: number[]; T: number; top6_min_gap_per_position: number[] }
const forwardJson = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'forward.json'), 'utf8')) as { prompts: ForwardPrompt[] };
const kvJson = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'kv_cache.json'), 'utf8')) as { input_ids: number[]; prefix_len: number; total_len: number };

let model: Gpt2Model;
let fwd: SafetensorsFile;
let kv: SafetensorsFile;

beforeAll(async () => {
  model = await Gpt2Model.load(DIR, { runtime: await createEngineRuntime({ device: 'cpu', intraOpThreads: 1 }) });
  fwd = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'forward.safetensors'));
  kv = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'kv_cache.safetensors'));
});

afterAll(async () => {
  await model?.dispose();
  await fwd?.close();
  await kv?.close();
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function topK(row: Float32Array, k: number): { ids: number[]; values: number[] } {
  const idx = Array.from(row.keys()).sort((x, y) => row[y] - row[x] || x - y).slice(0, k);
  return { ids: idx, values: idx.map((i) => row[i]) };
}

function logsumexp(row: Float32Array): number {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return m + Math.log(s);
}

async function readInts(f: SafetensorsFile, key: string): Promise<number[]> {
  return Array.from(await f.readFloat32(key));
}

describe('GPT-2 forward pass', () => {
  it('reads sizes from config.json', () => {
    expect(model.config).toMatchObject({ nLayer: 2, nEmbd: 64, nHead: 4, nInner: 256, nPositions: 256, vocabSize: V, layerNormEpsilon: 1e-5 });
  });

  it.each(forwardJson.prompts.map((p) => [p.key, p] as const))('%s: logits at every position within 1e-4', async (key, p) => {
    const { logits } = await model.forward(p.ids, model.emptyCache());
    expect(logits.length).toBe(p.T * V);
    const last3 = await fwd.readFloat32(`${key}.logits_last3`);
    expect(maxAbsDiff(logits.subarray((p.T - 3) * V), last3)).toBeLessThan(TOL);
    const ids = await readInts(fwd, `${key}.top5_ids`);
    const values = await fwd.readFloat32(`${key}.top5_values`);
    const lse = await fwd.readFloat32(`${key}.logsumexp`);
    for (let t = 0; t < p.T; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const top = topK(row, 5);
      if (p.top6_min_gap_per_position[t] > 2 * TOL) expect(top.ids).toEqual(ids.slice(t * 5, t * 5 + 5));
      expect(maxAbsDiff(top.values, values.subarray(t * 5, t * 5 + 5))).toBeLessThan(TOL);
      expect(Math.abs(logsumexp(row) - lse[t])).toBeLessThan(TOL);
    }
  });

  it('KV-cache steps equal full recomputation and the reference cache', async () => {
    const ids = kvJson.input_ids;
    const full = await model.forward(ids, model.emptyCache());
    const fullLast = full.logits.subarray((ids.length - 1) * V);
    expect(maxAbsDiff(fullLast, await kv.readFloat32('full.logits_last'))).toBeLessThan(TOL);

    let step = await model.forward(ids.slice(0, kvJson.prefix_len), model.emptyCache());
    for (let l = 0; l < model.config.nLayer; l++) {
      expect(maxAbsDiff(step.cache.keys[l], await kv.readFloat32(`past_prefix.${l}.key`))).toBeLessThan(TOL);
      expect(maxAbsDiff(step.cache.values[l], await kv.readFloat32(`past_prefix.${l}.value`))).toBeLessThan(TOL);
    }
    const cachedTop = await readInts(kv, 'cached.top5_ids');
    for (let t = kvJson.prefix_len; t < ids.length; t++) {
      step = await model.forward([ids[t]], step.cache);
      // each incremental step equals the full pass at that position
      expect(maxAbsDiff(step.logits, full.logits.subarray(t * V, (t + 1) * V))).toBeLessThan(TOL);
      expect(topK(step.logits, 5).ids).toEqual(cachedTop.slice((t - kvJson.prefix_len) * 5, (t - kvJson.prefix_len + 1) * 5));
    }
    expect(step.cache.length).toBe(kvJson.total_len);
    expect(maxAbsDiff(step.logits, await kv.readFloat32('cached.logits_last'))).toBeLessThan(TOL);
    for (let l = 0; l < model.config.nLayer; l++) {
      expect(maxAbsDiff(step.cache.keys[l], await kv.readFloat32(`past_final.${l}.key`))).toBeLessThan(TOL);
      expect(maxAbsDiff(step.cache.values[l], await kv.readFloat32(`past_final.${l}.value`))).toBeLessThan(TOL);
    }
  });
});

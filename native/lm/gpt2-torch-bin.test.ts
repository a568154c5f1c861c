// Real GPT-2 repositories differ from the fixture's safetensors (README §2): MagicPrompt ships a torch
// `pytorch_model.bin` with the causal-mask buffers (`attn.bias` uint8, `attn.masked_bias`) and
// `lm_head.weight` sharing the embedding's storage; OpenAI's `gpt2` is a bare GPT2Model dict without
// the `transformer.` prefix, possibly in F16. Each loads through the restricted reader and gives the
// reference logits.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors } from '../io/safetensors.js';
import type { PyValue } from '../io/testing/pickle-writer.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import { f32ToF16 } from '../io/dtype.js';
import { createEngineRuntime, type EngineRuntime } from '../runtime/ort-backend.js';
import { fixturePath } from '../testing/fixtures.js';
import { canonicalGpt2Key } from './gpt2-weights.js';
import { Gpt2Model } from './gpt2-model.js';

const V = 50257;
const P0 = [64, 3797, 5586, 319, 257, 9168, 359]; // "a cat sitting on a windowsill"

let tensors: Map<string, { shape: number[]; data: Float32Array }>;
let ref: Float32Array;
let runtime: EngineRuntime;
const dirs: string[] = [];

beforeAll(async () => {
  const f = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'model.safetensors'));
  tensors = new Map();
  for (const k of f.keys()) tensors.set(k, { shape: f.info(k)!.shape, data: await f.readFloat32(k) });
  await f.close();
  const fwd = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'forward.safetensors'));
  ref = await fwd.readFloat32('p0.logits_last3');
  await fwd.close();
  runtime = await createEngineRuntime({ device: 'cpu', intraOpThreads: 1 });
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'easel-gpt2-bin-'));
  dirs.push(d);
  copyFileSync(fixturePath('gpt2-tiny', 'config.json'), join(d, 'config.json'));
  return d;
}

async function lastLogitsDiff(dir: string, tol: number): Promise<void> {
  const model = await Gpt2Model.load(dir, { runtime });
  try {
    const { logits } = await model.forward(P0, model.emptyCache());
    const last = logits.subarray((P0.length - 1) * V);
    let d = 0;
    for (let i = 0; i < V; i++) d = Math.max(d, Math.abs(last[i] - ref[2 * V + i]));
    expect(d).toBeLessThan(tol);
  } finally {
    await model.dispose();
  }
}

describe('GPT-2 checkpoints as published', () => {
  it('maps keys: prefix added to bare GPT2Model keys, mask buffers dropped', () => {
    expect(canonicalGpt2Key('h.0.attn.c_attn.weight')).toBe('transformer.h.0.attn.c_attn.weight');
    expect(canonicalGpt2Key('transformer.h.3.attn.bias')).toBeUndefined();
    expect(canonicalGpt2Key('h.3.attn.masked_bias')).toBeUndefined();
    expect(canonicalGpt2Key('lm_head.weight')).toBe('lm_head.weight');
  });

  it('loads a MagicPrompt-style pytorch_model.bin (mask buffers, tied lm_head sharing storage)', async () => {
    const dir = folder();
    const storages: Record<string, Uint8Array> = {};
    const entries: [PyValue, PyValue][] = [];
    let n = 0;
    for (const [key, t] of tensors) {
      const id = String(n++);
      storages[id] = new Uint8Array(t.data.buffer.slice(0));
      entries.push([key, { tensor: { storage: id, dtype: 'F32', storageNumel: t.data.length, shape: t.shape } }]);
      if (key === 'transformer.wte.weight') {
        entries.push(['lm_head.weight', { tensor: { storage: id, dtype: 'F32', storageNumel: t.data.length, shape: t.shape } }]);
      }
      const layer = /^transformer\.h\.(\d+)\.ln_1\.weight$/.exec(key);
      if (layer) {
        const mask = String(n++);
        const npos = 256;
        const tri = new Uint8Array(npos * npos);
        for (let r = 0; r < npos; r++) for (let c = 0; c <= r; c++) tri[r * npos + c] = 1;
        storages[mask] = tri;
        entries.push([`transformer.h.${layer[1]}.attn.bias`, { tensor: { storage: mask, dtype: 'U8', storageNumel: tri.length, shape: [1, 1, npos, npos] } }]);
        const mb = String(n++);
        storages[mb] = new Uint8Array(new Float32Array([-1e4]).buffer);
        entries.push([`transformer.h.${layer[1]}.attn.masked_bias`, { tensor: { storage: mb, dtype: 'F32', storageNumel: 1, shape: [] } }]);
      }
    }
    await writeTorchZip(join(dir, 'pytorch_model.bin'), { dict: entries, ordered: true }, { storages });
    await lastLogitsDiff(dir, 1e-4);
  });

  it('loads a bare GPT2Model safetensors in F16', async () => {
    const dir = folder();
    const out: Record<string, { dtype: 'F16'; shape: number[]; data: Uint16Array }> = {};
    for (const [key, t] of tensors) out[key.replace(/^transformer\./, '')] = { dtype: 'F16', shape: t.shape, data: f32ToF16(t.data) };
    await writeSafetensors(join(dir, 'model.safetensors'), out);
    // half-precision weights, float32 arithmetic
    await lastLogitsDiff(dir, 0.1);
  });

  it('refuses a folder whose weights do not fit its config', async () => {
    const dir = folder();
    const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [key, t] of tensors) if (key !== 'transformer.ln_f.bias') out[key] = { dtype: 'F32', shape: t.shape, data: t.data };
    await writeSafetensors(join(dir, 'model.safetensors'), out);
    await expect(Gpt2Model.load(dir, { runtime })).rejects.toMatchObject({ code: 'lm_missing_weight' });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { readLoraFile, type LoraNetwork } from './lora-file.js';
import { moduleDelta, moduleScale, type LoraModule, type Tensor } from './lora-math.js';
import { appliedLora, mergeWeight, type AppliedLora } from './lora-merge.js';
import { seededValues, writeRandomLora } from './test/make-lora.js';

const t = (shape: number[], seed: number): Tensor => ({ shape, data: seededValues(seed, shape.reduce((a, b) => a * b, 1)) });

// Plain-loop references written from the definitions, independent of the implementation.
function refMatmul(a: Tensor, b: Tensor): number[][] {
  const m = a.shape[0], k = a.data.length / m, n = b.data.length / b.shape[0];
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[p * n + j];
    return s;
  }));
}

function refCp(tt: Tensor, wa: Tensor, wb: Tensor): number[] {
  // out[p, q, s] = Σ_i Σ_j t[i, j, s] wb[j, q] wa[i, p]
  const [I, J, kh, kw] = tt.shape, Q = wb.shape[1], P = wa.shape[1], S = kh * kw;
  const out: number[] = [];
  for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) for (let s = 0; s < S; s++) {
    let v = 0;
    for (let i = 0; i < I; i++) for (let j = 0; j < J; j++) v += tt.data[(i * J + j) * S + s] * wb.data[j * Q + q] * wa.data[i * P + p];
    out.push(v);
  }
  return out;
}

function expectClose(got: Float32Array, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  expect(m).toBeLessThan(tol);
}

describe('moduleDelta', () => {
  it('LoRA linear: up @ down · alpha/rank · multiplier', () => {
    const up = t([6, 3], 1), down = t([3, 5], 2);
    const m: LoraModule = { weights: { kind: 'lora', up, down }, alpha: 1.5 };
    const ref = refMatmul(up, down).flat().map((v) => v * (1.5 / 3) * 0.7);
    expectClose(moduleDelta(m, [6, 5], 0.7), ref);
  });

  it('LoRA 3x3 conv: Σ_r up[o, r] · down[r, i, kh, kw]', () => {
    const up = t([4, 2, 1, 1], 3), down = t([2, 3, 3, 3], 4);
    const m: LoraModule = { weights: { kind: 'lora', up, down }, alpha: 1 };
    const ref: number[] = [];
    for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) for (let s = 0; s < 9; s++) {
      let v = 0;
      for (let r = 0; r < 2; r++) v += up.data[o * 2 + r] * down.data[(r * 3 + i) * 9 + s];
      ref.push(v * 0.5 * 1.2);
    }
    expectClose(moduleDelta(m, [4, 3, 3, 3], 1.2), ref);
  });

  it('LoHa: (w1a @ w1b) ⊙ (w2a @ w2b) · alpha/dim', () => {
    const w1a = t([6, 2], 5), w1b = t([2, 4], 6), w2a = t([6, 2], 7), w2b = t([2, 4], 8);
    const m: LoraModule = { weights: { kind: 'loha', w1a, w1b, w2a, w2b }, alpha: 1 };
    const a = refMatmul(w1a, w1b).flat(), b = refMatmul(w2a, w2b).flat();
    expectClose(moduleDelta(m, [6, 4], 0.9), a.map((v, i) => v * b[i] * 0.5 * 0.9));
    expect(moduleScale(m)).toBe(0.5);
  });

  it('LoHa with CP tensors t1/t2 (conv)', () => {
    const t1 = t([2, 2, 3, 3], 9), t2 = t([2, 2, 3, 3], 10);
    const w1a = t([2, 5], 11), w1b = t([2, 4], 12), w2a = t([2, 5], 13), w2b = t([2, 4], 14);
    const m: LoraModule = { weights: { kind: 'loha', w1a, w1b, w2a, w2b, t1, t2 }, alpha: 2 };
    const a = refCp(t1, w1a, w1b), b = refCp(t2, w2a, w2b);
    expectClose(moduleDelta(m, [5, 4, 3, 3], 1), a.map((v, i) => v * b[i] * 1));
  });

  it('LoKr: kron(w1, w2a @ w2b) · alpha/dim (linear)', () => {
    const w1 = t([2, 3], 15), w2a = t([4, 2], 16), w2b = t([2, 5], 17);
    const m: LoraModule = { weights: { kind: 'lokr', w1, w2a, w2b }, alpha: 1 };
    const w2 = refMatmul(w2a, w2b);
    const ref: number[] = new Array(8 * 15).fill(0);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let p = 0; p < 4; p++) for (let q = 0; q < 5; q++) {
      ref[(i * 4 + p) * 15 + (j * 5 + q)] = w1.data[i * 3 + j] * w2[p][q] * 0.5 * 0.6;
    }
    expectClose(moduleDelta(m, [8, 15], 0.6), ref);
  });

  it('LoKr with full w1, w2 on a 3x3 conv (scale 1 without a dim)', () => {
    const w1 = t([2, 2], 18), w2 = t([3, 2, 3, 3], 19);
    const m: LoraModule = { weights: { kind: 'lokr', w1, w2 }, alpha: 7 };
    const ref: number[] = new Array(6 * 4 * 9).fill(0);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let p = 0; p < 3; p++) for (let q = 0; q < 2; q++) for (let s = 0; s < 9; s++) {
      ref[((i * 3 + p) * 4 + (j * 2 + q)) * 9 + s] = w1.data[i * 2 + j] * w2.data[(p * 2 + q) * 9 + s];
    }
    expectClose(moduleDelta(m, [6, 4, 3, 3], 1), ref);
  });

  it('refuses a delta that does not fit the weight', () => {
    const m: LoraModule = { weights: { kind: 'lora', up: t([6, 3], 1), down: t([3, 5], 2) } };
    expect(() => moduleDelta(m, [6, 4], 1)).toThrow(expect.objectContaining({ code: 'lora_shape_mismatch' }) as Error);
  });
});

describe('several LoRAs', () => {
  let dir: string;
  let ckpt: Checkpoint;
  let a: LoraNetwork, b: LoraNetwork;
  const K1 = 'cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight';
  const K2 = 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'easel-lora-math-'));
    ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
    const shape = (k: string) => ckpt.shape(k)!;
    await writeRandomLora(join(dir, 'a.safetensors'), [
      { name: 'lora_te_text_model_encoder_layers_0_mlp_fc1', shape: shape(K1) },
      { name: 'lora_unet_down_blocks_0_resnets_0_conv1', shape: shape(K2) },
    ], { seed: 1, rank: 2, alpha: 1 });
    await writeRandomLora(join(dir, 'b.safetensors'), [
      { name: 'lora_te_text_model_encoder_layers_0_mlp_fc1', shape: shape(K1) },
      { name: 'lora_unet_down_blocks_0_resnets_0_conv1', shape: shape(K2) },
      { name: 'lora_unet_bogus_module', shape: [2, 2] },
    ], { seed: 2, rank: 3, alpha: 3 });
    a = await readLoraFile(join(dir, 'a.safetensors'), (k) => ckpt.shape(k));
    b = await readLoraFile(join(dir, 'b.safetensors'), (k) => ckpt.shape(k));
  });
  afterAll(async () => {
    await ckpt?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const apply = (n: LoraNetwork, w: number, hash: string): AppliedLora => appliedLora(n, hash, w);

  it('reports unknown modules and keeps going', () => {
    expect(b.modules.size).toBe(2);
    expect(b.skipped).toEqual([expect.stringContaining('lora_unet_bogus_module')]);
  });

  it('A at w1 plus B at w2 is W + w1·ΔA + w2·ΔB; 0.4 twice is 0.8 once', async () => {
    for (const key of [K1, K2]) {
      const shape = ckpt.shape(key)!;
      const w = await ckpt.readFloat32(key);
      const dA = mergeWeight(key, w.slice(), shape, [apply(a, 1, 'a')]).map((v, i) => v - w[i]);
      const dB = mergeWeight(key, w.slice(), shape, [apply(b, 1, 'b')]).map((v, i) => v - w[i]);
      const both = mergeWeight(key, w.slice(), shape, [apply(a, 0.6, 'a'), apply(b, -0.3, 'b')]);
      expectClose(both, w.map((v, i) => v + 0.6 * dA[i] - 0.3 * dB[i]), 1e-5);
      const twice = mergeWeight(key, w.slice(), shape, [apply(a, 0.4, 'a'), apply(a, 0.4, 'a')]);
      const once = mergeWeight(key, w.slice(), shape, [apply(a, 0.8, 'a')]);
      expectClose(twice, once, 1e-5);
      expect(Math.max(...once.map((v, i) => Math.abs(v - w[i])))).toBeGreaterThan(1e-3);
    }
  });
});

import { pickScheduled } from '../sampling/cfg.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { loadClipTokenizer, type ClipTokenizer } from './clip-tokenizer.js';
import {
  applyEmphasis,
  applyOriginalEmphasis,
  buildConditioning,
  canBatchCondUncond,
  encodePrompts,
  getLearnedConditioning,
  getMulticondLearnedConditioning,
  padCondUncond,
  padCondUncondV0,
  stackConds,
  type Conditioning,
  type EncodeChunk,
} from './conditioning.js';
import { TextError } from './errors.js';

// A deterministic pseudo-random source for hand-made tensors.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

describe('applyOriginalEmphasis', () => {
  const dims = { batch: 2, tokens: 5, channels: 3 };
  const rnd = lcg(7);
  const z = Float32Array.from({ length: 30 }, () => rnd() * 4 + 0.3);
  const m = [1, 1.1, 0.9090909090909091, 1.3, 1, 1, 1.2100000000000002, 0.5, 1, -1.2];

  it('matches an independent float64 computation of z·m·(mean(z)/mean(z·m))', () => {
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    const scaled = Array.from(z, (v, i) => v * m[Math.floor(i / 3)]);
    const ratio = mean(z) / mean(scaled);
    const expected = scaled.map((v) => v * ratio);
    const got = applyOriginalEmphasis(z, m, dims);
    got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[i]))));
  });

  it('restores the mean over the whole batch', () => {
    const got = applyOriginalEmphasis(z, m, dims);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(got) / got.length).toBeCloseTo(sum(z) / z.length, 5);
    // Not per row: the first row's mean changes because of its multipliers.
    expect(sum(got.subarray(0, 15)) / 15).not.toBeCloseTo(sum(z.subarray(0, 15)) / 15, 3);
  });

  it('is the identity for all-ones multipliers', () => {
    expect(Array.from(applyOriginalEmphasis(z, new Array<number>(10).fill(1), dims))).toEqual(Array.from(z));
  });

  it('implements the other A1111 modes and checks shapes', () => {
    expect(applyEmphasis('Ignore', z, m, dims)).toBe(z);
    const noNorm = applyEmphasis('No norm', z, m, dims);
    expect(noNorm[3]).toBe(Math.fround(z[3] * Math.fround(1.1)));
    expect(() => applyOriginalEmphasis(z, m.slice(1), dims)).toThrow(TextError);
  });
});

// A text-encoder double: each output vector is a function of (token id, position), so the plumbing
// (batching, chunk order, concatenation) is visible in the result.
function fakeEncoder(channels: number, calls: Array<{ ids: number[]; batch: number; clipSkip: number }>): EncodeChunk {
  return async (ids, batch, opts) => {
    calls.push({ ids: Array.from(ids), batch, clipSkip: opts.clipSkip });
    const out = new Float32Array(batch * 77 * channels);
    for (let i = 0; i < batch * 77; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = ((ids[i] % 97) + 1) * (c + 1) + (i % 77) / 100;
    return out;
  };
}

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
});

describe('buildConditioning plumbing', () => {
  it('encodes each chunk once, in order, and concatenates along tokens', async () => {
    const calls: Array<{ ids: number[]; batch: number; clipSkip: number }> = [];
    const c = await buildConditioning('a cat BREAK a dog', { tokenizer: tok, encodeChunk: fakeEncoder(4, calls), clipSkip: 2 });
    expect(c.tokens).toBe(154);
    expect(c.channels).toBe(4);
    expect(c.data.length).toBe(154 * 4);
    expect(calls.map((x) => [x.batch, x.clipSkip, x.ids[1]])).toEqual([
      [1, 2, tok.encode('a')[0]],
      [1, 2, tok.encode('a')[0]],
    ]);
    expect(calls[1].ids[2]).toBe(tok.encode('dog')[0]);
    // All weights are 1 here, so the result is exactly the encoder output, chunk after chunk.
    expect(c.data[77 * 4 + 2 * 4]).toBe(Math.fround(((tok.encode('dog')[0] % 97) + 1) * 1 + 2 / 100));
  });

  it('fills shorter prompts of a batch with empty chunks and encodes them together', async () => {
    const calls: Array<{ ids: number[]; batch: number; clipSkip: number }> = [];
    const [a, b] = await encodePrompts(['x BREAK y', 'z'], { tokenizer: tok, encodeChunk: fakeEncoder(2, calls) });
    expect([a.tokens, b.tokens]).toEqual([154, 154]);
    expect(calls.map((x) => x.batch)).toEqual([2, 2]);
    expect(calls[1].ids.slice(77, 80)).toEqual([tok.bosId, tok.eosId, tok.eosId]);
    expect([a.tokenCount, b.tokenCount]).toEqual([76, 1]);
  });

  it('rejects an encoder output of the wrong size', async () => {
    const bad: EncodeChunk = async () => new Float32Array(10);
    await expect(buildConditioning('a', { tokenizer: tok, encodeChunk: bad })).rejects.toThrow(TextError);
  });

  it('schedules prompt editing and AND parts', async () => {
    const calls: Array<{ ids: number[]; batch: number; clipSkip: number }> = [];
    const deps = { tokenizer: tok, encodeChunk: fakeEncoder(2, calls) };
    const [sched] = await getLearnedConditioning(['a [cat:dog:0.5]'], 10, deps);
    expect(sched.map((e) => e.endAtStep)).toEqual([5, 10]);
    expect(calls.length).toBe(1); // both texts of the schedule in one batch
    expect(calls[0].batch).toBe(2);
    expect(pickScheduled(sched, 3)).toBe(sched[0].cond);
    expect(pickScheduled(sched, 6)).toBe(sched[1].cond);

    const [parts] = await getMulticondLearnedConditioning(['a cat AND a dog:0.5'], 10, deps);
    expect(parts.map((p) => p.weight)).toEqual([1, 0.5]);
  });
});

// Real numbers: the fixture's text encoder output for the empty prompt is what A1111's conditioning
// of "" starts from (all weights 1), so chunking + emphasis must reproduce cond.empty from it.
describe('conditioning of the empty prompt against the fixture', () => {
  let te: SafetensorsFile;
  let cond: SafetensorsFile;
  beforeAll(async () => {
    te = await SafetensorsFile.open(sd1TinyPath('text_encoder.safetensors'));
    cond = await SafetensorsFile.open(sd1TinyPath('conditioning.safetensors'));
  });
  afterAll(async () => {
    await te.close();
    await cond.close();
  });

  // Looks the chunk's ids up among the fixture's encoded rows.
  async function storedEncoder(): Promise<EncodeChunk> {
    const ids = await te.readFloat32('input_ids'); // [4, 77]
    const hidden = await te.readFloat32('last_hidden_state'); // [4, 77, 32]
    return async (chunkIds, batch) => {
      const out = new Float32Array(batch * 77 * 32);
      for (let b = 0; b < batch; b++) {
        const row = [0, 1, 2, 3].find((r) => chunkIds.subarray(b * 77, (b + 1) * 77).every((v, i) => v === ids[r * 77 + i]));
        if (row === undefined) throw new Error('chunk not in the fixture');
        out.set(hidden.subarray(row * 77 * 32, (row + 1) * 77 * 32), b * 77 * 32);
      }
      return out;
    };
  }

  it('reproduces cond.empty within 1e-4', async () => {
    const c = await buildConditioning('', { tokenizer: tok, encodeChunk: await storedEncoder() });
    const expected = await cond.readFloat32('cond.empty');
    expect(c.tokens * c.channels).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(c.data[i] - expected[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describe('cond / uncond helpers', () => {
  const mk = (tokens: number, channels: number, base: number): Conditioning => ({
    data: Float32Array.from({ length: tokens * channels }, (_, i) => base + i),
    tokens,
    channels,
    tokenCount: 0,
  });

  it('batches only equal lengths', () => {
    expect(canBatchCondUncond(mk(77, 1, 0), mk(77, 1, 0))).toBe(true);
    expect(canBatchCondUncond(mk(154, 1, 0), mk(77, 1, 0))).toBe(false);
  });

  it('pads the shorter side with the empty prompt (pad_cond_uncond)', () => {
    const empty = mk(77, 1, 1000);
    const [c, u] = padCondUncond(mk(154, 1, 0), mk(77, 1, 500), empty);
    expect(c.tokens).toBe(154);
    expect(u.tokens).toBe(154);
    expect(u.data[76]).toBe(576);
    expect(u.data[77]).toBe(1000);
    expect(u.data[153]).toBe(1076);
    const [c2, u2] = padCondUncond(mk(77, 1, 0), mk(231, 1, 0), empty);
    expect([c2.tokens, u2.tokens]).toEqual([231, 231]);
  });

  it('repeats or cuts uncond in the v0 variant', () => {
    const [, u] = padCondUncondV0(mk(154, 2, 0), mk(77, 2, 0));
    expect(u.tokens).toBe(154);
    expect(Array.from(u.data.subarray(152 * 2, 154 * 2))).toEqual([152, 153, 152, 153]);
    const [c, u2] = padCondUncondV0(mk(77, 2, 0), mk(154, 2, 0));
    expect([c.tokens, u2.tokens]).toEqual([77, 77]);
  });

  it('stacks different lengths by repeating the last vector', () => {
    const s = stackConds([mk(154, 1, 0), mk(77, 1, 500)]);
    expect([s.batch, s.tokens, s.channels]).toEqual([2, 154, 1]);
    expect(s.data[154 + 76]).toBe(576);
    expect(s.data[154 + 153]).toBe(576);
  });
});


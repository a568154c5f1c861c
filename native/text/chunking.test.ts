import { beforeAll, describe, expect, it } from 'vitest';
import { sd1TinyPath } from '../testing/fixtures.js';
import { CHUNK_LENGTH, emptyChunk, targetPromptTokenCount, tokenizeLine, type PromptTokenizer } from './chunking.js';
import { loadClipTokenizer, type ClipTokenizer } from './clip-tokenizer.js';
import { loadConditioningCases } from './test/fixture-data.js';

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
});

describe('tokenizeLine (cases.json → conditioning, exact)', () => {
  const cases = loadConditioningCases();
  it('covers the six fixture prompts', () => {
    expect(Object.keys(cases).sort()).toEqual(['break', 'emphasis', 'empty', 'exact75', 'exact76', 'long']);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const r = tokenizeLine(c.prompt, tok);
      expect(r.tokenCount).toBe(c.token_count);
      expect(r.chunks.length).toBe(c.chunks.length);
      expect(r.chunks.length * 77).toBe(c.shape[1]);
      r.chunks.forEach((chunk, i) => {
        expect(chunk.tokens).toEqual(c.chunks[i].tokens);
        expect(chunk.multipliers).toEqual(c.chunks[i].multipliers);
      });
    });
  }
});

// A tokenizer double with one id per word, so the chunk arithmetic can be checked by hand.
const words: PromptTokenizer = {
  bosId: 1,
  eosId: 2,
  commaId: 3,
  encode: (text) =>
    text
      .split(/\s+/)
      .filter((w) => w.length > 0)
      .flatMap((w) => (w === ',' ? [3] : [Number(w)])),
};

describe('tokenizeLine rules', () => {
  it('moves the words after a near comma into the next chunk', () => {
    const prompt = [...Array.from({ length: 70 }, (_, i) => 100 + i), ',', 200, 201, 202, 203, 204, 205].join(' ');
    const r = tokenizeLine(prompt, words);
    expect(r.chunks.length).toBe(2);
    expect(r.chunks[0].tokens.slice(70, 73)).toEqual([169, 3, 2]); // BOS + 70 words, the comma, then padding
    expect(r.chunks[1].tokens.slice(0, 8)).toEqual([1, 200, 201, 202, 203, 204, 205, 2]);
    expect(r.tokenCount).toBe(75 + 6);
  });

  it('does not backtrack to a comma further back than the limit, or when disabled', () => {
    const prompt = [100, ',', ...Array.from({ length: 80 }, (_, i) => 200 + i)].join(' ');
    expect(tokenizeLine(prompt, words).chunks[1].tokens[1]).toBe(273);
    const near = [...Array.from({ length: 70 }, (_, i) => 100 + i), ',', 200, 201, 202, 203, 204, 205].join(' ');
    // 70 words + comma + 200..203 fill the first chunk; 204 opens the second.
    expect(tokenizeLine(near, words, { commaPaddingBacktrack: 0 }).chunks[1].tokens[1]).toBe(204);
  });

  it('closes a chunk at BREAK and keeps weighted BREAK as text', () => {
    expect(tokenizeLine('5 BREAK 6', words).chunks.map((c) => c.tokens.slice(0, 3))).toEqual([
      [1, 5, 2],
      [1, 6, 2],
    ]);
    // With emphasis off, the attention syntax is not parsed: weights stay 1.
    expect(tokenizeLine('(5:1.5)', tok, { emphasis: 'None' }).chunks[0].multipliers.every((m) => m === 1)).toBe(true);
    expect(tokenizeLine('(5:1.5)', tok).chunks[0].multipliers[1]).toBe(1.5);
  });

  it('emits exactly one chunk for an empty prompt and an empty chunk shaped like A1111', () => {
    expect(tokenizeLine('', words).chunks).toEqual([emptyChunk(words)]);
    expect(emptyChunk(words).tokens.length).toBe(CHUNK_LENGTH + 2);
  });

  it('rounds the counter up to whole chunks', () => {
    expect([0, 1, 75, 76].map(targetPromptTokenCount)).toEqual([75, 75, 75, 150]);
  });
});

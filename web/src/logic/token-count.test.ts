import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../native/testing/fixtures.js';
import {
  chunkedCount,
  estimatePromptTokens,
  estimateTextTokens,
  exactCount,
  formatTokenCount,
  splitAtBreak,
  stripPromptSyntax,
} from './token-count.js';

interface TokenCase {
  text: string;
  count: number;
}

describe('chunk arithmetic (A1111 rules)', () => {
  it('shows N/75 up to 75 tokens and N/150 beyond', () => {
    expect(chunkedCount([0])).toEqual({ tokens: 0, max: 75 });
    expect(chunkedCount([75])).toEqual({ tokens: 75, max: 75 });
    expect(chunkedCount([76])).toEqual({ tokens: 76, max: 150 });
    expect(chunkedCount([151])).toEqual({ tokens: 151, max: 225 });
  });

  it('counts a chunk closed by BREAK as a full 75', () => {
    expect(chunkedCount([3, 1])).toEqual({ tokens: 76, max: 150 });
    expect(chunkedCount([0, 2])).toEqual({ tokens: 77, max: 150 });
    expect(chunkedCount([80, 5])).toEqual({ tokens: 155, max: 225 });
  });

  it('formats exact and estimated counts differently', () => {
    expect(formatTokenCount(exactCount(76))).toBe('76/150');
    expect(formatTokenCount({ tokens: 12, max: 75, exact: false })).toBe('≈12/75');
  });
});

describe('prompt syntax stripping', () => {
  it('drops weights, brackets and LoRA tags but keeps escaped brackets', () => {
    expect(stripPromptSyntax('(cat:1.3), [dog]').replace(/\s+/g, ' ').trim()).toBe('cat , dog');
    expect(stripPromptSyntax('<lora:detail:0.8> castle').trim()).toBe('castle');
    expect(stripPromptSyntax('\\(literal\\)')).toContain('(literal)');
  });

  it('splits at a standalone BREAK only', () => {
    expect(splitAtBreak('a cat BREAK a dog')).toEqual(['a cat', 'a dog']);
    expect(splitAtBreak('BREAKFAST')).toEqual(['BREAKFAST']);
  });

  it('estimates chunks across BREAK', () => {
    const c = estimatePromptTokens('a cat BREAK a dog');
    expect(c).toEqual({ tokens: 77, max: 150, exact: false });
  });
});

describe('estimate against the real CLIP tokenizer (tokens.json fixture)', () => {
  const data = JSON.parse(readFileSync(fixturePath('sd1-tiny', 'tokens.json'), 'utf8')) as { cases: TokenCase[] };
  // Plain ASCII prompts: the heuristic is meant for these; emoji, CJK, mojibake and HTML entities
  // (which ftfy rewrites) are where any word heuristic goes wrong, and the UI labels it an estimate.
  const latin = data.cases.filter((c) => /^[\x20-\x7e]+$/.test(c.text) && !c.text.includes('<|') && !c.text.includes('&'));

  it('has enough plain cases to be meaningful', () => {
    expect(latin.length).toBeGreaterThanOrEqual(5);
  });

  it('stays within 25% of the exact total and 40% per prompt', () => {
    let est = 0;
    let real = 0;
    for (const c of latin) {
      const e = estimateTextTokens(c.text);
      est += e;
      real += c.count;
      expect(Math.abs(e - c.count), c.text).toBeLessThanOrEqual(Math.max(2, 0.4 * c.count));
    }
    expect(Math.abs(est - real) / real).toBeLessThan(0.25);
  });
});

import { describe, expect, it } from 'vitest';
import { TextError } from './errors.js';
import { loadPromptFixtures } from './test/fixture-data.js';
import { isBreakRun, parsePromptAttention } from './prompt-attention.js';

describe('parsePromptAttention (prompts.json, exact)', () => {
  const cases = loadPromptFixtures().parse_prompt_attention;

  it('covers every fixture case', () => {
    expect(cases.length).toBe(33);
  });

  for (const c of cases) {
    it(JSON.stringify(c.text), () => {
      if (c.error !== undefined) {
        expect(() => parsePromptAttention(c.text)).toThrow(TextError);
        try {
          parsePromptAttention(c.text);
        } catch (e) {
          expect((e as TextError).code).toBe('bad_attention_weight');
        }
      } else {
        expect(parsePromptAttention(c.text)).toEqual(c.parsed);
      }
    });
  }
});

describe('parsePromptAttention beyond the fixture', () => {
  it('keeps float64 products in Python order', () => {
    expect(parsePromptAttention('(((a)))')).toEqual([['a', 1.1 * 1.1 * 1.1]]);
    expect(parsePromptAttention('(((a)))')[0][1]).not.toBe(1.331);
  });

  it('treats BREAK inside a word as text and multi-line BREAK as a break', () => {
    expect(parsePromptAttention('xBREAK y')).toEqual([['xBREAK y', 1]]);
    expect(parsePromptAttention('a\nBREAK\nb')).toEqual([['a', 1], ['BREAK', -1], ['b', 1]]);
    // Python's \b is Unicode-aware: an accented letter next to BREAK is a word character.
    expect(parsePromptAttention('éBREAK b')).toEqual([['éBREAK b', 1]]);
  });

  it('marks only the literal (BREAK, -1) run as a chunk break', () => {
    expect(isBreakRun(['BREAK', -1])).toBe(true);
    expect(isBreakRun(['BREAK', -1.2])).toBe(false);
    expect(isBreakRun(['break', -1])).toBe(false);
  });
});

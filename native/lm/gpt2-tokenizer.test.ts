// The GPT-2 tokenizer against transformers 4.30's slow GPT2Tokenizer (../shared/fixtures/gpt2-tiny §3).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { cleanUpTokenization, gpt2TokenizerFromFiles, loadGpt2Tokenizer, type Gpt2Tokenizer } from './gpt2-tokenizer.js';
import { LmError } from './lm-error.js';

interface TokenCase {
  text: string;
  ids: number[];
  tokens: string[];
  decoded: string;
  decoded_no_cleanup: string;
  decoded_skip_special: string;
}
interface DecodeCase {
  ids: number[];
  decoded: string;
  decoded_no_cleanup: string;
  decoded_skip_special: string;
}
const fixture = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'tokens.json'), 'utf8')) as { cases: TokenCase[]; decode_cases: DecodeCase[] };

let tok: Gpt2Tokenizer;
beforeAll(async () => {
  tok = await loadGpt2Tokenizer(fixturePath('gpt2-tiny', 'tokenizer'));
});

describe('GPT-2 tokenizer', () => {
  it('has the real vocabulary', () => {
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosId).toBe(50256);
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    expect(tok.encode('<|endoftext|>')).toEqual([50256]);
  });

  it.each(fixture.cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('encodes and decodes %s', (_name, c) => {
    expect(tok.tokenize(c.text)).toEqual(c.tokens);
    expect(tok.encode(c.text)).toEqual(c.ids);
    expect(tok.decode(c.ids)).toBe(c.decoded);
    expect(tok.decode(c.ids, { cleanup: false })).toBe(c.decoded_no_cleanup);
    expect(tok.decode(c.ids, { cleanup: false })).toBe(c.text); // round trip
    expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded_skip_special);
  });

  it.each(fixture.decode_cases.map((c, i) => [i, c] as const))('decode case %i', (_i, c) => {
    expect(tok.decode(c.ids)).toBe(c.decoded);
    expect(tok.decode(c.ids, { cleanup: false })).toBe(c.decoded_no_cleanup);
    expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded_skip_special);
  });

  it('applies the cleanup rules in order', () => {
    expect(cleanUpTokenization("a , b . c ' d do n't I 'm")).toBe("a, b. c'd don't I'm");
  });

  it('refuses malformed files with a coded error', () => {
    expect(() => gpt2TokenizerFromFiles('[1,2]', '#version: 0.2\na b\n')).toThrow(LmError);
    expect(() => gpt2TokenizerFromFiles('{"<|endoftext|>": 0}', '#version: 0.2\nabc\n')).toThrow(/merges.txt/);
    expect(() => gpt2TokenizerFromFiles('{"a": 0}', '#version: 0.2\na b\n')).toThrow(/endoftext/);
  });

  it('treats added tokens as special', () => {
    const t = gpt2TokenizerFromFiles('{"a": 0, "b": 1, "<|endoftext|>": 2}', '#version: 0.2\na b\n', '{"<|sep|>": 3}');
    expect(t.encode('a<|sep|>b')).toEqual([0, 3, 1]);
    expect(t.decode([0, 3, 1], { skipSpecialTokens: true })).toBe('ab');
  });
});

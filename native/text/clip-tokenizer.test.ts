// Golden table: every case of tokens.json, text → BPE tokens → ids, exact.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sd1TinyPath } from '../testing/fixtures.js';
import { bytesToUnicode, ClipTokenizer, clipTokenizerFromFiles, findTokenizerDir, loadClipTokenizer } from './clip-tokenizer.js';
import { TextError } from './errors.js';
import { loadTokenCases } from './test/fixture-data.js';

const fixture = loadTokenCases();
let tok: ClipTokenizer;

beforeAll(async () => {
  tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
});

describe('ClipTokenizer golden table (tokens.json)', () => {
  it('has the special ids of the fixture', () => {
    expect(fixture.cases.length).toBe(26);
    expect(tok.bosId).toBe(fixture.bos_id);
    expect(tok.eosId).toBe(fixture.eos_id);
    expect(tok.commaId).toBe(267);
  });

  for (const c of fixture.cases) {
    it(JSON.stringify(c.text).slice(0, 70), () => {
      expect(tok.tokenize(c.text)).toEqual(c.tokens);
      expect(tok.encode(c.text)).toEqual(c.ids);
      expect(c.ids.length).toBe(c.count);
    });
  }
});

describe('ClipTokenizer internals', () => {
  it('keeps an upper-case special token whole after lowercasing, as transformers does', () => {
    expect(tok.encode('a <|ENDOFTEXT|> b')).toEqual([320, 49407, 321]);
  });

  it('maps all 256 bytes to distinct printable characters', () => {
    const m = bytesToUnicode();
    expect(new Set(m).size).toBe(256);
    expect(m[0x20]).toBe('Ġ');
    expect(m[0x41]).toBe('A');
  });

  it('applies merges by rank and falls back to EOS for unknown tokens', () => {
    const small = new ClipTokenizer({
      vocab: { 'a': 0, 'b': 1, 'c</w>': 2, 'ab': 3, 'abc</w>': 4, 'b</w>': 5, '<|startoftext|>': 6, '<|endoftext|>': 7 },
      merges: ['a b', 'ab c</w>'],
    });
    expect(small.tokenize('abc')).toEqual(['abc</w>']);
    expect(small.encode('abc ab')).toEqual([4, 0, 5]); // no 'a b</w>' merge
    expect(small.encode('ca')).toEqual([7, 7]); // 'c' and 'a</w>' are not in this vocabulary: EOS (the unk token)
    expect(small.commaId).toBeUndefined();
  });

  it('rejects malformed files with a coded error', () => {
    expect(() => clipTokenizerFromFiles('{', '#version: 0.2\na b')).toThrow(TextError);
    expect(() => clipTokenizerFromFiles('{"<|startoftext|>":0,"<|endoftext|>":1}', '#version: 0.2\nabc')).toThrow(/merges\.txt/);
    expect(() => clipTokenizerFromFiles('{"a":0}', '#version: 0.2\na b')).toThrow(/startoftext/);
    expect(() => clipTokenizerFromFiles('{"a":"x"}', '#version: 0.2\na b')).toThrow(/integer id/);
  });
});

describe('findTokenizerDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'easel-tok-'));
  const write = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.json'), '{}');
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
  };
  const diffusers = join(root, 'model-diffusers');
  const models = join(root, 'models');
  write(join(diffusers, 'tokenizer'));
  write(join(models, 'tokenizers', 'clip-vit-large-patch14'));
  mkdirSync(join(root, 'empty'));

  it('prefers the explicit folder, then the diffusers tokenizer/, then $MODELS_DIR', () => {
    expect(findTokenizerDir({ explicitDir: join(diffusers, 'tokenizer'), modelsDir: models })).toBe(join(diffusers, 'tokenizer'));
    expect(findTokenizerDir({ checkpointPath: diffusers, modelsDir: models })).toBe(join(diffusers, 'tokenizer'));
    expect(findTokenizerDir({ checkpointPath: join(root, 'x.safetensors'), modelsDir: models })).toBe(
      join(models, 'tokenizers', 'clip-vit-large-patch14'),
    );
  });

  it('says where it looked when nothing is found', () => {
    expect(() => findTokenizerDir({ explicitDir: join(root, 'empty') })).toThrow(/--tokenizer/);
    try {
      findTokenizerDir({ checkpointPath: join(root, 'empty'), modelsDir: join(root, 'nowhere') });
      expect.unreachable();
    } catch (e) {
      expect((e as TextError).code).toBe('tokenizer_not_found');
      expect((e as TextError).message).toContain(join(root, 'empty', 'tokenizer'));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { TextError } from './errors.js';
import { extractLoraTags } from './lora-tags.js';

describe('extractLoraTags', () => {
  it('removes tags and reads name and multiplier', () => {
    const r = extractLoraTags('a cat <lora:add_detail:0.6>, (red:1.2)');
    expect(r.prompt).toBe('a cat , (red:1.2)');
    expect(r.loras).toEqual([{ name: 'add_detail', weight: 0.6, teWeight: 0.6, unetWeight: 0.6 }]);
    expect(r.others).toEqual([]);
  });

  it('defaults the multiplier to 1.0 and reads the te/unet/dyn forms', () => {
    const r = extractLoraTags('<lora:a><lora:b:0.5:0.25><lora:c:1:0.5:16><lora:d:unet=0.3:te=0.7><lora:e:0.9:dyn=8>');
    expect(r.prompt).toBe('');
    expect(r.loras).toEqual([
      { name: 'a', weight: 1, teWeight: 1, unetWeight: 1 },
      { name: 'b', weight: 0.5, teWeight: 0.5, unetWeight: 0.25 },
      { name: 'c', weight: 1, teWeight: 1, unetWeight: 0.5, dynDim: 16 },
      { name: 'd', weight: 0.7, teWeight: 0.7, unetWeight: 0.3 },
      { name: 'e', weight: 0.9, teWeight: 0.9, unetWeight: 0.9, dynDim: 8 },
    ]);
  });

  it('treats lyco as lora and returns other kinds separately', () => {
    const r = extractLoraTags('x <lyco:style:0.4> y <hypernet:anime:1.1> z');
    expect(r.prompt).toBe('x  y  z');
    expect(r.loras.map((l) => [l.name, l.weight])).toEqual([['style', 0.4]]);
    expect(r.others).toEqual([{ kind: 'hypernet', args: ['anime', '1.1'] }]);
  });

  it('accepts Python float syntax and names with spaces and dots', () => {
    const r = extractLoraTags('<lora:my lora v1.5: 1e-1 >');
    expect(r.loras[0].name).toBe('my lora v1.5');
    expect(r.loras[0].weight).toBeCloseTo(0.1, 15);
  });

  it('leaves text that is not a tag alone', () => {
    expect(extractLoraTags('a <b> c <lora:> d <-x:1>').prompt).toBe('a <b> c <lora:> d <-x:1>');
    expect(extractLoraTags('a <b> c').loras).toEqual([]);
  });

  it('rejects a non-numeric multiplier with a coded error', () => {
    expect(() => extractLoraTags('<lora:x:strong>')).toThrow(TextError);
    try {
      extractLoraTags('<lora:x:strong>');
    } catch (e) {
      expect((e as TextError).code).toBe('bad_extra_network_args');
      expect((e as TextError).message).toContain("'strong'");
    }
  });
});

import { describe, expect, it } from 'vitest';
import { infotextValue, lorasInPrompt, parseInfotext } from './infotext.js';

describe('infotext reading', () => {
  it('splits prompt, negative prompt and parameters', () => {
    const text = [
      'a cat, (detailed:1.2)',
      'second line <lora:ink:0.6>',
      'Negative prompt: blurry, lowres',
      'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123, Size: 512x768, Model: tiny, Lora hashes: "ink: abc123, glow: def456", Version: v1.10.1',
    ].join('\n');
    const p = parseInfotext(text);
    expect(p.prompt).toBe('a cat, (detailed:1.2)\nsecond line <lora:ink:0.6>');
    expect(p.negativePrompt).toBe('blurry, lowres');
    expect(infotextValue(p, 'Sampler')).toBe('DPM++ 2M');
    expect(infotextValue(p, 'Size')).toBe('512x768');
    expect(infotextValue(p, 'Lora hashes')).toBe('ink: abc123, glow: def456');
    expect(infotextValue(p, 'Version')).toBe('v1.10.1');
    expect(p.params.map(([k]) => k)).toEqual(['Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size', 'Model', 'Lora hashes', 'Version']);
    expect(lorasInPrompt(p.prompt)).toEqual([{ name: 'ink', weight: 0.6 }]);
  });

  it('keeps a last line with fewer than three pairs in the prompt', () => {
    const p = parseInfotext('portrait\nstyle: oil');
    expect(p.params).toEqual([]);
    expect(p.prompt).toBe('portrait\nstyle: oil');
  });

  it('unquotes JSON-quoted values with escapes', () => {
    const p = parseInfotext('x\nSteps: 1, Seed: 2, Note: "a \\"b\\", c"');
    expect(infotextValue(p, 'Note')).toBe('a "b", c');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInfotext, type InfotextParams } from './format-infotext.js';
import { parseGenerationParameters, parseInfotext } from './parse-infotext.js';

describe('parseGenerationParameters (A1111 rules)', () => {
  it('splits prompt, multi-line negative prompt and parameters, with Size-1/Size-2 and defaults', () => {
    const { fields } = parseGenerationParameters(
      'line one\nline two\nNegative prompt: bad\nworse\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: "a, b"',
    );
    expect(fields['Prompt']).toBe('line one\nline two');
    expect(fields['Negative prompt']).toBe('bad\nworse');
    expect(fields['Steps']).toBe('20');
    expect(fields['CFG scale']).toBe('7.5');
    expect(fields['Size-1']).toBe('512');
    expect(fields['Size-2']).toBe('768');
    expect(fields['Size']).toBeUndefined();
    expect(fields['Model']).toBe('a, b');
    expect(fields['Clip skip']).toBe('1');
    expect(fields['RNG']).toBe('GPU');
    expect(fields['Schedule type']).toBe('Automatic');
    expect(fields['Hires resize-1']).toBe(0);
    expect(fields['Masked area padding']).toBe(32);
    expect(fields['Refiner switch by sampling steps']).toBe(false);
  });

  it('treats a last line with fewer than 3 params as prompt text', () => {
    const { fields } = parseGenerationParameters('a photo\nstyle: noir, mood: dark');
    expect(fields['Prompt']).toBe('a photo\nstyle: noir, mood: dark');
    expect(fields['style']).toBeUndefined();
  });

  it('restores the old hires fix first-pass size and the hypernet tag', () => {
    const { fields } = parseGenerationParameters('p\nSteps: 20, Size: 1024x1024, First pass size: 0x0, Hypernet: anime, Hypernet strength: 0.5');
    expect(fields['Size-1']).toBe(512);
    expect(fields['Size-2']).toBe(512);
    expect(fields['Hires resize-1']).toBe(1024);
    expect(fields['Prompt']).toBe('p<hypernet:anime:0.5>');
  });
});

describe('parseInfotext', () => {
  it('splits legacy combined sampler names', () => {
    const p = parseInfotext('x\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, Size: 640x512');
    expect(p.sampler).toBe('dpmpp_2m');
    expect(p.scheduler).toBe('karras');
    expect([p.steps, p.cfg_scale, p.seed, p.width, p.height]).toEqual([30, 7, 5, 640, 512]);
  });

  it('reads Civitai Hashes JSON and Lora hashes', () => {
    const p = parseInfotext(
      'x <lora:add_detail:0.5>\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Model hash: 6ce0161689, Lora hashes: "add_detail: 7c6bad76eb54", Version: v1.10.1, Hashes: {"model": "6ce0161689", "lora:add_detail": "7c6bad76eb54"}',
    );
    expect(p.hashes).toEqual({ model: '6ce0161689', 'lora:add_detail': '7c6bad76eb54' });
    expect(p.loras).toEqual([{ name: 'add_detail', hash: '7c6bad76eb54' }]);
    expect(p.version).toBe('v1.10.1');
    expect(p.fields['lora']).toBeUndefined();
  });
});

describe('round trip', () => {
  const cases: Array<[string, string]> = [
    ['commas and colons', 'masterpiece, (cat:1.2), style: noir'],
    ['quotes', 'a "quoted" word, and \\backslash'],
    ['newlines', 'first line\nsecond, line\nthird: line'],
    ['unicode', '猫の絵, café, emoji 🎨'],
  ];
  for (const [name, prompt] of cases) {
    it(`keeps a prompt with ${name}`, () => {
      const params: InfotextParams = {
        prompt,
        negative_prompt: `bad, ${name}\nugly: yes`,
        steps: 25,
        sampler: 'euler_a',
        scheduler: 'karras',
        cfg_scale: 6.5,
        seed: 4294967295,
        width: 768,
        height: 512,
        model: 'odd: model, name "v2"',
        model_hash: '0123456789',
        clip_skip: 2,
        denoising_strength: 0.55,
        loras: [{ name: 'détail', hash: 'abcdefabcdef' }],
      };
      const p = parseInfotext(formatInfotext(params));
      expect(p.prompt).toBe(prompt);
      expect(p.negative_prompt).toBe(params.negative_prompt);
      expect(p.model).toBe(params.model);
      expect([p.steps, p.sampler, p.scheduler, p.cfg_scale, p.seed, p.width, p.height]).toEqual([25, 'euler_a', 'karras', 6.5, 4294967295, 768, 512]);
      expect([p.model_hash, p.clip_skip, p.denoising_strength]).toEqual(['0123456789', 2, 0.55]);
      expect(p.loras).toEqual([{ name: 'détail', hash: 'abcdefabcdef' }]);
      expect(p.hashes).toEqual({ model: '0123456789', 'lora:détail': 'abcdefabcdef' });
    });
  }

  it('keeps arbitrary prompts (property test)', () => {
    // A1111 strips each prompt line, and a prompt line starting "Negative prompt:" is ambiguous.
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ' ').trim()).filter((s) => !s.startsWith('Negative prompt:'));
    const prompt = fc.array(line, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('\n')).filter((s) => s.trim() === s && !/\n\s*\n/.test(s) && s !== '');
    fc.assert(
      fc.property(prompt, prompt, fc.integer({ min: 0, max: 2 ** 32 - 1 }), (pos, neg, seed) => {
        const text = formatInfotext({ prompt: pos, negative_prompt: neg, steps: 20, sampler: 'euler', cfg_scale: 7, seed, width: 512, height: 512 });
        const p = parseInfotext(text);
        expect(p.prompt).toBe(pos);
        expect(p.negative_prompt).toBe(neg);
        expect(p.seed).toBe(seed);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseInfotext: hires fix', () => {
  it('reads A1111 hires items back under GenerationParams.hires names (sd1-hires infotext)', () => {
    const text =
      'a lighthouse\nNegative prompt: blurry, lowres\nSteps: 4, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 424242, Size: 64x96, ' +
      'Model hash: e504babd24, Model: model, Denoising strength: 0.55, RNG: CPU, Hires sampler: Euler a, Hires prompt: "a lighthouse, [green:golden:1.5]", ' +
      'Hires schedule type: Exponential, Hires upscale: 1.5, Hires steps: 4, Hires upscaler: Latent (nearest-exact), Version: v1.10.1';
    const p = parseInfotext(text);
    expect(p.hires).toEqual({
      enabled: true, scale: 1.5, width: 0, height: 0, upscaler: 'Latent (nearest-exact)', steps: 4, denoising_strength: 0.55,
      sampler: 'euler_a', scheduler: 'exponential', prompt: 'a lighthouse, [green:golden:1.5]', negative_prompt: '',
    });
    expect([p.width, p.height]).toEqual([64, 96]);
  });
  it('a resize without an upscaler name, and no hires at all', () => {
    const p = parseInfotext('x\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 99, Size: 64x96, Denoising strength: 0.6, Hires resize: 112x128, Hires steps: 3');
    expect(p.hires).toMatchObject({ width: 112, height: 128, steps: 3, scale: 2, denoising_strength: 0.6 });
    expect(p.hires?.upscaler).toBeUndefined();
    expect(parseInfotext('x\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64').hires).toBeUndefined();
  });
});

describe('parseInfotext: img2img noise multiplier', () => {
  it('reads `Noise multiplier` back from what formatInfotext writes (after the hashes)', () => {
    const text = formatInfotext({
      prompt: 'x', steps: 4, sampler: 'euler', cfg_scale: 7, seed: 1, width: 64, height: 64, denoising_strength: 0.5,
      extra: [['Mask blur', 4], ['Noise multiplier', '0.8']], loras: [{ name: 'l', hash: 'aaaaaaaaaaaa' }], civitai_hashes: false,
    });
    expect(text).toContain('Lora hashes: "l: aaaaaaaaaaaa", Noise multiplier: 0.8,');
    expect(parseInfotext(text).initial_noise_multiplier).toBe(0.8);
    expect(parseInfotext('x\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64').initial_noise_multiplier).toBeUndefined();
  });
});

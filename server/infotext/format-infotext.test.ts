import { describe, expect, it } from 'vitest';
import { formatInfotext, pythonJsonDumps, quote, type InfotextParams } from './format-infotext.js';

const base: InfotextParams = {
  prompt: 'a cat',
  steps: 20,
  sampler: 'dpmpp_2m',
  scheduler: 'karras',
  cfg_scale: 7,
  seed: 1234,
  width: 512,
  height: 768,
  version: 'v1.10.1',
};

describe('quote', () => {
  it('leaves plain values bare and JSON-quotes values with comma, colon or newline', () => {
    expect(quote('Latent')).toBe('Latent');
    expect(quote('a, b')).toBe('"a, b"');
    expect(quote('a: b')).toBe('"a: b"');
    expect(quote('a\nb "c"')).toBe('"a\\nb \\"c\\""');
    // ensure_ascii=False: non-ASCII stays as is
    expect(quote('猫, é')).toBe('"猫, é"');
  });
});

describe('pythonJsonDumps', () => {
  it('uses Python separators and ASCII escapes', () => {
    expect(pythonJsonDumps({ model: 'abc', 'lora:é': 'x' })).toBe('{"model": "abc", "lora:\\u00e9": "x"}');
  });
});

describe('formatInfotext', () => {
  it('writes the COMPAT.md 1.5 example line in A1111 key order', () => {
    const text = formatInfotext({
      ...base,
      prompt: 'masterpiece, a cat',
      negative_prompt: 'blurry',
      sampler: 'DPM++ 2M',
      model_hash: '6ce0161689',
      model: 'v1-5-pruned-emaonly',
      vae_hash: '735e4c3a44',
      vae: 'vae-ft-mse',
      denoising_strength: 0.7,
      clip_skip: 2,
      extra: [
        ['Hires upscale', 2],
        ['Hires steps', 10],
        ['Hires upscaler', 'Latent'],
      ],
      loras: [
        { name: 'add_detail', hash: '7c6bad76eb54' },
        { name: 'foo', hash: '0123456789ab' },
      ],
      embeddings: [{ name: 'easynegative', hash: 'c74b4e810b03' }],
      civitai_hashes: false,
    });
    expect(text).toBe(
      'masterpiece, a cat\nNegative prompt: blurry\n' +
        'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, ' +
        'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, VAE: vae-ft-mse, ' +
        'Denoising strength: 0.7, Clip skip: 2, Hires upscale: 2, Hires steps: 10, Hires upscaler: Latent, ' +
        'Lora hashes: "add_detail: 7c6bad76eb54, foo: 0123456789ab", TI hashes: "easynegative: c74b4e810b03", Version: v1.10.1',
    );
  });

  it('appends the Civitai Hashes JSON after Version', () => {
    const text = formatInfotext({ ...base, model_hash: '6ce0161689', model: 'm', loras: [{ name: 'add_detail', hash: '7c6bad76eb54' }] });
    expect(text.endsWith(', Version: v1.10.1, Hashes: {"model": "6ce0161689", "lora:add_detail": "7c6bad76eb54"}')).toBe(true);
  });

  it('drops the negative line when empty, clip skip 1, GPU RNG and absent values', () => {
    const text = formatInfotext({ ...base, negative_prompt: '', clip_skip: 1, rng: 'nv' });
    expect(text).toBe('a cat\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, Version: v1.10.1');
  });

  it('writes RNG: CPU, ENSD, booleans as Python does, and a bare key when value equals key', () => {
    const text = formatInfotext({ ...base, sampler: 'euler_a', scheduler: 'automatic', rng: 'cpu', ensd: 31337, tiling: true, extra: [['Emphasis', 'Emphasis'], ['Discard penultimate sigma', true]] });
    expect(text).toBe(
      'a cat\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 512x768, ENSD: 31337, RNG: CPU, Tiling: True, Emphasis, Discard penultimate sigma: True, Version: v1.10.1',
    );
  });

  it('resolves Automatic to the sampler default scheduler A1111 would use', () => {
    expect(formatInfotext({ ...base, scheduler: 'automatic' })).toContain('Sampler: DPM++ 2M, Schedule type: Karras,');
    expect(formatInfotext({ ...base, sampler: 'dpmpp_2m_sde', scheduler: 'automatic' })).toContain('Sampler: DPM++ 2M SDE, Schedule type: Exponential,');
  });

  it('takes the scheduler from a legacy combined name when none is given', () => {
    const { scheduler: _omit, ...rest } = base;
    expect(formatInfotext({ ...rest, sampler: 'DPM++ 2M SDE Karras' })).toContain('Sampler: DPM++ 2M SDE, Schedule type: Karras,');
  });

  it('quotes model names with commas and strips : and , from LoRA names', () => {
    const text = formatInfotext({ ...base, model: 'my, model', loras: [{ name: 'we:ird,name', hash: 'aaaaaaaaaaaa' }], civitai_hashes: false });
    expect(text).toContain('Model: "my, model", Lora hashes: "weirdname: aaaaaaaaaaaa", Version');
  });

  it('orders extras as A1111 v1.10 adds them: ADetailer (process hook), hires/inpaint (init), hashes, then sampling-time keys', () => {
    const text = formatInfotext({
      ...base,
      extra: [['Mask blur', 4], ['ADetailer model', 'face_yolov8n.pt'], ['ADetailer version', '25.3.0'], ['Emphasis', 'Original'], ['Noise multiplier', '0.5']],
      loras: [{ name: 'x', hash: '111111111111' }],
      civitai_hashes: false,
    });
    expect(text).toContain(
      'ADetailer model: face_yolov8n.pt, ADetailer version: 25.3.0, Mask blur: 4, Lora hashes: "x: 111111111111", Emphasis: Original, Noise multiplier: 0.5, Version: v1.10.1',
    );
  });
});

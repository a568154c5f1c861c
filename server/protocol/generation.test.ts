import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { GenerationParamsSchema, makeGenerationParamsSchema, DEFAULT_GENERATION_LIMITS } from './generation.js';
import { zodToEaselError } from './errors.js';

function fieldOf(input: unknown, schema = GenerationParamsSchema): string | undefined {
  const r = schema.safeParse(input);
  if (r.success) return undefined;
  return zodToEaselError(r.error).field;
}

describe('GenerationParamsSchema', () => {
  it('fills A1111 defaults', () => {
    const p = GenerationParamsSchema.parse({ prompt: 'a cat' });
    expect(p).toMatchObject({ task: 'txt2img', width: 512, height: 512, steps: 20, cfg_scale: 7, seed: -1, batch_size: 1, n_iter: 1, rng: 'nv', scheduler: 'automatic' });
  });

  it.each([
    ['dpmpp_2m', 'dpmpp_2m', 'automatic'],
    ['DPM++ 2M', 'dpmpp_2m', 'automatic'],
    ['DPM++ 2M Karras', 'dpmpp_2m', 'karras'],
    ['k_euler_a', 'euler_a', 'automatic'],
    ['Euler a', 'euler_a', 'automatic'],
    ['DPM++ 2M SDE Exponential', 'dpmpp_2m_sde', 'exponential'],
  ])('accepts sampler %s', (name, id, scheduler) => {
    const p = GenerationParamsSchema.parse({ sampler: name });
    expect(p.sampler).toBe(id);
    expect(p.scheduler).toBe(scheduler);
  });

  it('lets an explicit scheduler win over a legacy combined name', () => {
    expect(GenerationParamsSchema.parse({ sampler: 'DPM++ 2M Karras', scheduler: 'Exponential' }).scheduler).toBe('exponential');
  });

  it('names the field of every error', () => {
    expect(fieldOf({ sampler: 'nope' })).toBe('sampler');
    expect(fieldOf({ scheduler: 'nope' })).toBe('scheduler');
    expect(fieldOf({ width: 1001 })).toBe('width');
    expect(fieldOf({ height: 4096 })).toBe('height');
    expect(fieldOf({ seed: -2 })).toBe('seed');
    expect(fieldOf({ seed: 4294967296 })).toBe('seed');
    expect(fieldOf({ batch_size: 9 })).toBe('batch_size');
    expect(fieldOf({ n_iter: 101 })).toBe('n_iter');
    expect(fieldOf({ prompt: 'x'.repeat(10_001) })).toBe('prompt');
    expect(fieldOf({ rng: 'gpu' })).toBe('rng');
    expect(fieldOf({ loras: Array.from({ length: 8 }, (_, i) => ({ name: `l${i}` })) })).toBe('loras');
    expect(fieldOf({ loras: [{ name: 'ok', weight: 'x' }] })).toBe('loras.0.weight');
    expect(fieldOf({ promt: 'typo' })).toBe('promt');
    expect(fieldOf({ task: 'img2img' })).toBe('image');
    expect(fieldOf({ model: '../../etc/passwd' })).toBe('model');
    expect(fieldOf(null)).toBe('(payload)');
  });

  it('explains what it expected and what it got', () => {
    const r = GenerationParamsSchema.safeParse({ width: 1001 });
    expect(r.success).toBe(false);
    expect(zodToEaselError(r.error!).message).toBe('width: must be a multiple of 8, got 1001');
  });

  it('accepts the boundaries', () => {
    expect(GenerationParamsSchema.safeParse({ seed: 4294967295, width: 2048, height: 64, batch_size: 8, n_iter: 100, prompt: 'x'.repeat(10_000) }).success).toBe(true);
  });

  it('decodes base64 and data-URL images to bytes and checks byte and pixel limits', async () => {
    const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#000' } }).png().toBuffer();
    const p = GenerationParamsSchema.parse({ task: 'img2img', image: 'data:image/png;base64,' + png.toString('base64') });
    expect(p.image).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(p.image!).equals(png)).toBe(true);
    expect(GenerationParamsSchema.parse({ task: 'img2img', image: new Uint8Array(png) }).image!.byteLength).toBe(png.byteLength);

    const tight = makeGenerationParamsSchema({ ...DEFAULT_GENERATION_LIMITS, maxImagePixels: 64 * 31 });
    expect(fieldOf({ task: 'img2img', image: png.toString('base64') }, tight)).toBe('image');
    const small = makeGenerationParamsSchema({ ...DEFAULT_GENERATION_LIMITS, maxImageBytes: png.byteLength - 1 });
    expect(fieldOf({ task: 'img2img', image: png.toString('base64') }, small)).toBe('image');
    expect(fieldOf({ task: 'img2img', image: 'not base64!' })).toBe('image');
    expect(fieldOf({ task: 'img2img', image: Buffer.from('GIF89a....').toString('base64') })).toBe('image');
    expect(fieldOf({ task: 'inpaint', image: png.toString('base64') })).toBe('mask');
  });

  it('takes initial_noise_multiplier for img2img and inpaint only', async () => {
    const png = (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).png().toBuffer()).toString('base64');
    expect(GenerationParamsSchema.parse({ task: 'img2img', image: png, initial_noise_multiplier: 0.5 }).initial_noise_multiplier).toBe(0.5);
    expect(GenerationParamsSchema.parse({ task: 'img2img', image: png }).initial_noise_multiplier).toBeUndefined();
    expect(fieldOf({ task: 'img2img', image: png, initial_noise_multiplier: 3 })).toBe('initial_noise_multiplier');
    expect(fieldOf({ initial_noise_multiplier: 0.5 })).toBe('initial_noise_multiplier');
    expect(fieldOf({ initial_noise_multiplier: 1 })).toBeUndefined();
  });
});

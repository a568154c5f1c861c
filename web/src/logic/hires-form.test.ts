import { describe, expect, it } from 'vitest';
import { defaultHires, hiresFromInfotext, hiresTargetSize, hiresToParams, hiresUpscalerChoices, upscalerStem, validateHires } from './hires-form.js';

describe('hires form', () => {
  it('is off by default with A1111’s defaults, and sends nothing then', () => {
    const h = defaultHires();
    expect(h).toMatchObject({ enabled: false, upscaler: 'Latent', scale: 2, steps: 0, denoisingStrength: 0.7 });
    expect(hiresToParams(h)).toBeUndefined();
  });
  it('sends the protocol’s names, leaving "same as first pass" fields out', () => {
    const h = { ...defaultHires(), enabled: true, upscaler: '4x-UltraSharp', steps: 10, sampler: 'euler', saveFirstPass: true };
    expect(hiresToParams(h)).toEqual({
      enabled: true, upscaler: '4x-UltraSharp', scale: 2, steps: 10, denoising_strength: 0.7, width: 0, height: 0, sampler: 'euler', save_first_pass: true,
    });
  });
  it('offers latent modes, then None/Lanczos/Nearest, then upscaler files by stem', () => {
    expect(upscalerStem('RealESRGAN_x4plus.pth')).toBe('RealESRGAN_x4plus');
    expect(upscalerStem('sub/4x-UltraSharp.safetensors')).toBe('4x-UltraSharp');
    const c = hiresUpscalerChoices(['b.safetensors', 'a.pth', 'a.pth']);
    expect(c.slice(0, 1)).toEqual(['Latent']);
    expect(c.slice(6)).toEqual(['None', 'Lanczos', 'Nearest', 'a', 'b']);
  });
  it('computes the final size as A1111 (scale truncation, resize crop)', () => {
    expect(hiresTargetSize(512, 512, { scale: 1.5, resizeX: 0, resizeY: 0 })).toEqual({ width: 768, height: 768 });
    expect(hiresTargetSize(64, 96, { scale: 2, resizeX: 112, resizeY: 128 })).toEqual({ width: 112, height: 128 });
    expect(hiresTargetSize(64, 96, { scale: 2, resizeX: 100, resizeY: 0 })).toEqual({ width: 96, height: 144 });
  });
  it('validates only when enabled', () => {
    const bad = { ...defaultHires(), scale: 9, denoisingStrength: 0 };
    expect(validateHires(bad, 150)).toEqual({});
    expect(Object.keys(validateHires({ ...bad, enabled: true }, 150)).sort()).toEqual(['hires.denoising_strength', 'hires.scale']);
  });
});

describe('hiresFromInfotext', () => {
  const ids = { samplerId: (l: string) => (l === 'Euler a' ? 'euler_a' : undefined), schedulerId: (l: string) => (l === 'Exponential' ? 'exponential' : undefined) };
  it('reads A1111 hires items into the form, opened', () => {
    const params: [string, string][] = [['Steps', '4'], ['Denoising strength', '0.55'], ['Hires sampler', 'Euler a'], ['Hires schedule type', 'Exponential'], ['Hires upscale', '1.5'], ['Hires steps', '4'], ['Hires upscaler', 'Latent (nearest-exact)']];
    expect(hiresFromInfotext(params, defaultHires(), ids)).toMatchObject({
      enabled: true, open: true, scale: 1.5, steps: 4, denoisingStrength: 0.55, upscaler: 'Latent (nearest-exact)', sampler: 'euler_a', scheduler: 'exponential', resizeX: 0,
    });
    expect(hiresFromInfotext([['Hires resize', '112x128']], defaultHires(), ids)).toMatchObject({ enabled: true, resizeX: 112, resizeY: 128, upscaler: 'Latent' });
  });
  it('turns the hires fix off for an image without it, keeping the other values', () => {
    const h = { ...defaultHires(), enabled: true, scale: 3 };
    expect(hiresFromInfotext([['Steps', '20']], h, ids)).toEqual({ ...h, enabled: false });
  });
});

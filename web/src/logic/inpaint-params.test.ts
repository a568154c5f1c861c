import { describe, expect, it } from 'vitest';
import { defaultFormState } from './generation-form.js';
import { defaultInpaintSettings, inpaintParams, processingSize, validateInpaint } from './inpaint-params.js';

const { initImage: _none, ...shared } = { ...defaultFormState(), prompt: 'a red door', steps: 12, seed: 42, batchSize: 4, batchCount: 3 };

describe('inpaint parameters', () => {
  it('takes the size from the image, snapped to multiples of 8', () => {
    const s = defaultInpaintSettings();
    expect(processingSize(s, 637, 481)).toEqual({ width: 640, height: 480 });
    expect(processingSize(s, 30, 5000)).toEqual({ width: 64, height: 2048 });
    expect(processingSize({ ...s, sizeFromImage: false, width: 768, height: 512 }, 637, 481)).toEqual({ width: 768, height: 512 });
  });

  it('makes an inpaint payload with the mask settings and the shared parameters', () => {
    const s = { ...defaultInpaintSettings(), strength: 0.6, maskBlur: 2, onlyMasked: true, padding: 0, maskedContent: 'latent_noise' as const };
    const p = inpaintParams(shared, s, { image: 'data:image/png;base64,AAAA', width: 100, height: 60, mask: 'data:image/png;base64,BBBB' });
    expect(p).toMatchObject({
      task: 'inpaint',
      prompt: 'a red door',
      steps: 12,
      seed: 42,
      width: 104,
      height: 64,
      batch_size: 1,
      n_iter: 1,
      image: 'data:image/png;base64,AAAA',
      mask: 'data:image/png;base64,BBBB',
      strength: 0.6,
      mask_blur: 2,
      inpaint_full_res: true,
      inpaint_full_res_padding: 0,
      inpainting_fill: 'latent_noise',
    });
  });

  it('runs img2img without a mask', () => {
    const p = inpaintParams(shared, defaultInpaintSettings(), { image: 'data:image/png;base64,AAAA', width: 64, height: 64, mask: null });
    expect(p.task).toBe('img2img');
    expect(p.mask).toBeUndefined();
    expect(p.mask_blur).toBeUndefined();
    expect(p.strength).toBe(0.75);
  });

  it('carries the shared VAE choice into the inpaint payload, and leaves it out on Automatic', () => {
    const src = { image: 'data:image/png;base64,AAAA', width: 64, height: 64, mask: 'data:image/png;base64,BBBB' };
    expect(inpaintParams({ ...shared, vae: 'kl-f8-anime.safetensors' }, defaultInpaintSettings(), src)).toMatchObject({ task: 'inpaint', vae: 'kl-f8-anime.safetensors' });
    expect(inpaintParams({ ...shared, vae: 'None' }, defaultInpaintSettings(), { ...src, mask: null })).toMatchObject({ task: 'img2img', vae: 'None' });
    expect('vae' in inpaintParams(shared, defaultInpaintSettings(), src)).toBe(false);
  });

  it('reports invalid settings with what was expected', () => {
    expect(validateInpaint(defaultInpaintSettings())).toEqual({});
    const e = validateInpaint({ ...defaultInpaintSettings(), strength: 1.5, maskBlur: -1, padding: 2.5, sizeFromImage: false, width: 500 });
    expect(Object.keys(e).sort()).toEqual(['inpaint_full_res_padding', 'mask_blur', 'strength', 'width']);
    expect(e.width).toContain('got 500');
  });
});

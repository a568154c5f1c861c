import { describe, expect, it } from 'vitest';
import { defaultFormState, formToParams, hasErrors, randomSeed, reuseSeed, VAE_AUTOMATIC, VAE_NONE, validateForm, type GenerationFormState } from './generation-form.js';

function form(patch: Partial<GenerationFormState> = {}): GenerationFormState {
  return { ...defaultFormState(), prompt: 'a cat', ...patch };
}

describe('generation form validation', () => {
  it('accepts the defaults', () => {
    expect(validateForm(form())).toEqual({});
  });

  it('names each bad field with expected vs got', () => {
    const e = validateForm(
      form({ width: 1001, height: 4096, steps: 0, cfgScale: 31, seed: -2, batchSize: 9, batchCount: 0, clipSkip: 13 }),
    );
    expect(e.width).toBe('must be a multiple of 8, got 1001');
    expect(e.height).toBe('must be between 64 and 2048, got 4096');
    expect(e.steps).toBe('must be between 1 and 150, got 0');
    expect(e.cfg_scale).toMatch(/got 31/);
    expect(e.seed).toMatch(/-1 \(random\).*got -2/);
    expect(e.batch_size).toMatch(/between 1 and 8, got 9/);
    expect(e.n_iter).toMatch(/between 1 and 100, got 0/);
    expect(e.clip_skip).toMatch(/got 13/);
    expect(hasErrors(e)).toBe(true);
  });

  it('rejects non-integers and over-long prompts', () => {
    expect(validateForm(form({ steps: 2.5 })).steps).toMatch(/whole number/);
    expect(validateForm(form({ seed: Number.NaN })).seed).toBeDefined();
    expect(validateForm(form({ prompt: 'x'.repeat(10_001) })).prompt).toMatch(/at most 10000 characters, got 10001/);
  });

  it('checks strength only when an image is attached', () => {
    const img = { dataUrl: 'data:image/png;base64,AAAA', name: 'a.png', width: 8, height: 8 };
    expect(validateForm(form({ strength: 2 })).strength).toBeUndefined();
    expect(validateForm(form({ strength: 2, initImage: img })).strength).toMatch(/between 0 and 1, got 2/);
  });

  it('reports LoRA slot problems under loras.<index>', () => {
    const e = validateForm(form({ loras: [{ name: 'x', weight: 1 }, { name: 'x', weight: 1 }] }));
    expect(e['loras.1']).toMatch(/already/);
    expect(e['loras.0']).toBeUndefined();
  });
});

describe('form to generate payload', () => {
  it('builds a txt2img payload with protocol names', () => {
    const p = formToParams(form({ model: 'sd15.safetensors', scheduler: 'karras', seed: 42, loras: [{ name: 'ink', weight: 0.5 }, { name: '', weight: 1 }] }));
    expect(p).toMatchObject({
      task: 'txt2img',
      prompt: 'a cat',
      model: 'sd15.safetensors',
      width: 512,
      height: 512,
      cfg_scale: 7,
      sampler: 'euler_a',
      scheduler: 'karras',
      seed: 42,
      batch_size: 1,
      n_iter: 1,
      loras: [{ name: 'ink', weight: 0.5 }],
    });
    expect(p.image).toBeUndefined();
  });

  it('omits automatic scheduler and empty model', () => {
    const p = formToParams(form());
    expect('scheduler' in p).toBe(false);
    expect('model' in p).toBe(false);
  });

  it('sends the VAE only when one is chosen: Automatic omits it, None and a file name go as they are', () => {
    expect(defaultFormState().vae).toBe(VAE_AUTOMATIC);
    expect('vae' in formToParams(form())).toBe(false);
    expect(formToParams(form({ vae: VAE_NONE })).vae).toBe('None');
    expect(formToParams(form({ vae: 'sd-vae-ft-mse.safetensors' })).vae).toBe('sd-vae-ft-mse.safetensors');
    expect(formToParams(form({ vae: 'sub/kl-f8.safetensors', initImage: { dataUrl: 'data:image/png;base64,AAAA', name: 'a.png', width: 8, height: 8 } }))).toMatchObject({
      task: 'img2img',
      vae: 'sub/kl-f8.safetensors',
    });
  });

  it('switches to img2img with strength when an image is attached', () => {
    const img = { dataUrl: 'data:image/png;base64,AAAA', name: 'a.png', width: 8, height: 8 };
    const p = formToParams(form({ initImage: img, strength: 0.4 }));
    expect(p.task).toBe('img2img');
    expect(p.image).toBe(img.dataUrl);
    expect(p.strength).toBe(0.4);
  });

  it('reuses the last seed or goes back to random', () => {
    expect(reuseSeed(form(), 1234).seed).toBe(1234);
    expect(reuseSeed(form({ seed: 5 }), null).seed).toBe(5);
    expect(randomSeed(form({ seed: 5 })).seed).toBe(-1);
  });
});

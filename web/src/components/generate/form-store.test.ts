import { describe, expect, it } from 'vitest';
import { memoryStore as memory } from '../../data/testing/memory-store.js';
import { FORM_KEY, FormStore } from './form-store.js';

describe('shared generation form', () => {
  it('starts from the saved form, drops a stale init image, and survives corrupt storage', () => {
    const saved = memory({ [FORM_KEY]: JSON.stringify({ prompt: 'a fox', steps: 9, initImage: { dataUrl: 'x' } }) });
    const s = new FormStore(() => saved).get();
    expect(s.prompt).toBe('a fox');
    expect(s.steps).toBe(9);
    expect(s.sampler).toBe('euler_a');
    // A form saved before the VAE field existed gets Automatic.
    expect(s.vae).toBe('');
    expect('initImage' in s).toBe(false);
    expect(new FormStore(() => memory({ [FORM_KEY]: '{oops' })).get().prompt).toBe('');
  });

  it('saves every update and tells listeners who changed it', () => {
    const storage = memory();
    const store = new FormStore(() => storage);
    const seen: unknown[] = [];
    store.addEventListener('change', (e) => seen.push((e as CustomEvent<{ source: unknown }>).detail.source));
    const inpaintTab = {};
    store.update({ prompt: 'a red door', cfgScale: 5 }, inpaintTab);
    expect(seen).toEqual([inpaintTab]);
    expect(JSON.parse(storage.map.get(FORM_KEY)!)).toMatchObject({ prompt: 'a red door', cfgScale: 5 });
    // A second store over the same storage (the next page load) sees it.
    expect(new FormStore(() => storage).get().prompt).toBe('a red door');
  });
});

import { describe, expect, it } from 'vitest';
import type { ModelEntry } from './protocol.js';
import { DEFAULT_UPSCALE, loadUpscaleSettings, saveUpscaleSettings, upscalerChoices } from './upscale.js';

const entry = (name: string, type: ModelEntry['type'] = 'upscaler'): ModelEntry => ({ name, type, size_bytes: 1 });

describe('upscale choices and settings', () => {
  it('lists the built-ins first, then upscaler files by stem, and nothing else', () => {
    expect(upscalerChoices([entry('4x-UltraSharp.pth'), entry('sub/RealESRGAN_x4plus.safetensors'), entry('model.safetensors', 'checkpoint'), entry('other.onnx')])).toEqual([
      { value: 'Lanczos', label: 'Lanczos' },
      { value: 'Nearest', label: 'Nearest' },
      { value: '4x-UltraSharp.pth', label: '4x-UltraSharp' },
      { value: 'sub/RealESRGAN_x4plus.safetensors', label: 'RealESRGAN_x4plus' },
    ]);
  });

  it('remembers valid settings and falls back to the defaults for anything else', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadUpscaleSettings(storage)).toEqual(DEFAULT_UPSCALE);
    saveUpscaleSettings(storage, { upscaler: '4x-UltraSharp.pth', scale: 3.5, tile: 0 });
    expect(loadUpscaleSettings(storage)).toEqual({ upscaler: '4x-UltraSharp.pth', scale: 3.5, tile: 0 });
    store.set('easel.upscale', JSON.stringify({ upscaler: '', scale: 99, tile: -4 }));
    expect(loadUpscaleSettings(storage)).toEqual(DEFAULT_UPSCALE);
    store.set('easel.upscale', '{not json');
    expect(loadUpscaleSettings(storage)).toEqual(DEFAULT_UPSCALE);
  });
});

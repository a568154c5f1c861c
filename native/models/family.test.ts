import { describe, expect, it } from 'vitest';
import { detectFamily } from './family.js';
import { loadKeyList } from './test/key-lists.js';

const keyList = (name: 'sd15' | 'sd21_v' | 'sdxl_base'): string[] => loadKeyList(name).keys;

describe('detectFamily', () => {
  it('recognises the three full-size key lists', () => {
    expect(detectFamily(keyList('sd15')).family).toBe('sd1');
    expect(detectFamily(keyList('sd21_v')).family).toBe('sd2');
    expect(detectFamily(keyList('sdxl_base')).family).toBe('sdxl');
  });

  it('turns sd2 into sd2-v only when told the model predicts v', () => {
    expect(detectFamily(keyList('sd21_v'), { parameterization: 'v' }).family).toBe('sd2-v');
    expect(detectFamily(keyList('sd21_v'), { parameterization: 'eps' }).family).toBe('sd2');
    // the hint does not change other families
    expect(detectFamily(keyList('sd15'), { parameterization: 'v' }).family).toBe('sd1');
  });

  it('recognises an SDXL refiner-style conditioner and a UNet with ADM label_emb alone', () => {
    expect(detectFamily(['conditioner.embedders.0.model.ln_final.weight', 'model.diffusion_model.out.2.weight']).family).toBe('sdxl');
    expect(detectFamily(['model.diffusion_model.label_emb.0.0.weight', 'model.diffusion_model.out.2.weight']).family).toBe('sdxl');
  });

  it('answers unknown for files without a known UNet + text encoder', () => {
    expect(detectFamily([]).family).toBe('unknown');
    expect(detectFamily(['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight']).family).toBe('unknown');
    // a UNet alone (no text encoder) cannot be told apart
    expect(detectFamily(keyList('sd15').filter((k) => !k.startsWith('cond_stage_model.'))).family).toBe('unknown');
    expect(detectFamily(keyList('sd15').filter((k) => !k.startsWith('model.diffusion_model.'))).family).toBe('unknown');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultSizeFor, familyMismatch, presetsFor, SDXL_SIZE_PRESETS, sizeOnModelChange } from './model-family.js';
import { SIZE_PRESETS } from './size-presets.js';

describe('model family in the Generate form', () => {
  it('offers SDXL buckets for SDXL checkpoints and the square presets otherwise', () => {
    expect(presetsFor('sdxl', SIZE_PRESETS)).toBe(SDXL_SIZE_PRESETS);
    expect(presetsFor('sd1', SIZE_PRESETS)).toBe(SIZE_PRESETS);
    expect(SDXL_SIZE_PRESETS.every((p) => p.width % 64 === 0 && p.height % 64 === 0 && Math.abs(p.width * p.height - 1024 * 1024) < 0.12 * 1024 * 1024)).toBe(true);
  });

  it('switches the size with the family unless the user set one', () => {
    expect(sizeOnModelChange('sd1', 'sdxl', false)).toEqual({ width: 1024, height: 1024, sizePreset: '1024' });
    expect(sizeOnModelChange('sdxl', 'sd1', false)).toEqual(defaultSizeFor('sd1'));
    expect(sizeOnModelChange('sd1', 'sdxl', true)).toBeNull();
    expect(sizeOnModelChange('sdxl', 'sdxl', false)).toBeNull();
  });

  it('marks LoRAs of another family', () => {
    expect(familyMismatch('sd1', 'sdxl')).toBe('made for SD 1.x; the checkpoint is SDXL');
    expect(familyMismatch('sdxl', 'sdxl')).toBeNull();
    expect(familyMismatch('unknown', 'sdxl')).toBeNull();
    expect(familyMismatch('sd2-v', 'sd2')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { CUSTOM_PRESET_ID, findPreset, presetIdFor, snapSide, SIZE_PRESETS, swapSides } from './size-presets.js';

describe('size presets', () => {
  it('offers the three square presets', () => {
    expect(SIZE_PRESETS.map((p) => [p.width, p.height])).toEqual([
      [512, 512],
      [768, 768],
      [1024, 1024],
    ]);
    expect(findPreset('768')?.width).toBe(768);
    expect(findPreset('nope')).toBeUndefined();
  });

  it('recognises a preset from its size and calls anything else custom', () => {
    expect(presetIdFor(1024, 1024)).toBe('1024');
    expect(presetIdFor(512, 768)).toBe(CUSTOM_PRESET_ID);
  });

  it('snaps custom sides to multiples of 8 inside the limits', () => {
    expect(snapSide(1001)).toBe(1000);
    expect(snapSide(1004)).toBe(1008);
    expect(snapSide(10)).toBe(64);
    expect(snapSide(99999)).toBe(2048);
    expect(snapSide(Number.NaN)).toBe(64);
    for (let v = 64; v <= 2048; v += 37) expect(snapSide(v) % 8).toBe(0);
  });

  it('swaps orientation', () => {
    expect(swapSides({ width: 512, height: 768 })).toEqual({ width: 768, height: 512 });
  });
});

import { describe, expect, it } from 'vitest';
import { controlUnitsFromInfotext, controlUnitsToParams, defaultControlUnits, validateControlUnits } from './controlnet-form.js';

const image = { dataUrl: 'data:image/png;base64,AAAA', name: 'sketch.png', width: 64, height: 64 };

describe('ControlNet form', () => {
  it('sends only enabled units, leaving untouched sliders out', () => {
    const units = defaultControlUnits();
    expect(controlUnitsToParams(units)).toBeUndefined();
    units[1] = { ...units[1]!, enabled: true, image, model: 'control_tiny_canny.safetensors', thresholdA: 50 };
    expect(controlUnitsToParams(units)).toEqual([
      {
        enabled: true, module: 'canny', model: 'control_tiny_canny.safetensors', weight: 1, image: image.dataUrl, resize_mode: 'Crop and Resize',
        guidance_start: 0, guidance_end: 1, control_mode: 'Balanced', pixel_perfect: false, threshold_a: 50,
      },
    ]);
  });

  it('names the unit and field of each problem, as the server does', () => {
    const units = defaultControlUnits();
    units[2] = { ...units[2]!, enabled: true, guidanceStart: 0.9, guidanceEnd: 0.1 };
    expect(Object.keys(validateControlUnits(units, false)).sort()).toEqual(['controlnet.2.guidance_start', 'controlnet.2.image', 'controlnet.2.model']);
    expect(validateControlUnits(units, true)['controlnet.2.image']).toBeUndefined();
  });

  it("re-applies an infotext's units (the extension's format), keeping control images", () => {
    const current = defaultControlUnits();
    current[0] = { ...current[0]!, image };
    const params: [string, string][] = [
      ['Steps', '5'],
      ['ControlNet 0', 'Module: canny, Model: control_tiny_canny [93054dcb], Weight: 0.6, Resize Mode: Just Resize, Processor Res: 64, Threshold A: 100.0, Threshold B: 200.0, Guidance Start: 0.2, Guidance End: 0.8, Pixel Perfect: False, Control Mode: My prompt is more important'],
    ];
    const units = controlUnitsFromInfotext(params, current, (t) => (t === 'control_tiny_canny [93054dcb]' ? 'control_tiny_canny.safetensors' : undefined))!;
    expect(units[0]).toMatchObject({
      enabled: true, image, module: 'canny', model: 'control_tiny_canny.safetensors', weight: 0.6, resizeMode: 'Just Resize', processorRes: 64,
      thresholdA: 100, thresholdB: 200, guidanceStart: 0.2, guidanceEnd: 0.8, pixelPerfect: false, controlMode: 'My prompt is more important',
    });
    expect(units.slice(1).every((u) => !u.enabled)).toBe(true);
    expect(controlUnitsFromInfotext([['Steps', '5']], current, () => undefined)).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import {
  controlNetModule,
  findControlNetModule,
  listControlNetModules,
  normalizeUnitSliders,
  pyFloatRepr,
  pyStr,
  requireAvailableModule,
  resizeModeFromApi,
} from './modules.js';
import { ControlNetPreprocessError } from './preprocess/preprocess-error.js';

describe('module table', () => {
  it('lists none first, then the extension order (priority desc, label desc)', () => {
    const names = listControlNetModules().map((m) => m.name);
    expect(names.slice(0, 4)).toEqual(['none', 'ip-adapter-auto', 'tile_resample', 'pidinet']);
    expect(names.at(-1)).toBe('animal_openpose');
    expect(new Set(names).size).toBe(names.length);
    // the extension's web_api test: these names and labels must all be listed
    for (const n of ['canny', 'invert', 'depth', 'depth_zoe', 'openpose', 'openpose_full', 'dw_openpose_full', 'hed', 'pidinet', 'normal_bae', 'oneformer_ade20k', 'lineart', 'lineart_anime', 'mlsd', 'shuffle', 'reference_only', 'inpaint', 'inpaint_only', 'inpaint_only+lama', 'tile_resample', 'threshold', 'scribble_xdog', 'lineart_standard', 'softedge_teed']) {
      expect(names).toContain(n);
    }
    expect(listControlNetModules().map((m) => m.label)).toContain('seg_ofade20k');
  });

  it('finds modules by label first, then by name', () => {
    expect(controlNetModule('invert').label).toBe('invert (from white bg & black line)');
    expect(controlNetModule('invert (from white bg & black line)').name).toBe('invert');
    expect(controlNetModule('depth_midas').name).toBe('depth');
    expect(controlNetModule('lineart_standard (from white bg & black line)').name).toBe('lineart_standard');
    expect(controlNetModule('inpaint_global_harmonious').name).toBe('inpaint');
    expect(findControlNetModule('Canny')).toBeUndefined();
  });

  it('gives the canny sliders of the extension (module_detail)', () => {
    const c = controlNetModule('canny');
    expect(c.sliders.processorRes).toMatchObject({ label: 'Resolution', min: 64, max: 2048, value: 512, step: 8, visible: true });
    expect(c.sliders.thresholdA).toMatchObject({ label: 'Low Threshold', min: 1, max: 255, value: 100, step: 1, valueIsFloat: false });
    expect(c.sliders.thresholdB).toMatchObject({ label: 'High Threshold', min: 1, max: 255, value: 200, step: 1, valueIsFloat: false });
    expect(controlNetModule('invert').sliders.processorRes.visible).toBe(false);
    expect(controlNetModule('tile_resample').sliders.thresholdA).toMatchObject({ label: 'Down Sampling Rate', value: 1, valueIsFloat: true });
    // legacy preprocessors keep the default resolution slider whatever their own table says
    expect(controlNetModule('depth_zoe').sliders.processorRes).toMatchObject({ min: 64, max: 2048, value: 512, visible: true });
  });

  it('marks model-based modules unavailable with a reason, and throws coded errors', () => {
    for (const id of ['none', 'canny', 'invert', 'scribble_xdog', 'threshold', 'lineart_standard', 'tile_resample', 'inpaint_only']) {
      expect(requireAvailableModule(id).available).toBe(true);
    }
    const depth = controlNetModule('depth_midas');
    expect(depth.available).toBe(false);
    expect(depth.unavailableReason).toBe('needs a preprocessor model; not supported yet');
    const err = (() => {
      try {
        requireAvailableModule('depth_midas');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ControlNetPreprocessError);
    expect((err as ControlNetPreprocessError).code).toBe('controlnet_module_unavailable');
    expect((err as ControlNetPreprocessError).message).toContain('depth_midas');
    expect(() => controlNetModule('sobel')).toThrowError(expect.objectContaining({ code: 'unknown_controlnet_module', module: 'sobel' }));
  });
});

describe('normalizeUnitSliders (README step 1, as stored)', () => {
  const canny = controlNetModule('canny');
  it('omitted canny values become the int defaults', () => {
    const s = normalizeUnitSliders(canny, {});
    expect(s).toEqual({
      processor_res: { value: 512, pyFloat: false },
      threshold_a: { value: 100, pyFloat: false },
      threshold_b: { value: 200, pyFloat: false },
    });
    expect([pyStr(s.processor_res), pyStr(s.threshold_a), pyStr(s.threshold_b)]).toEqual(['512', '100', '200']);
  });
  it('given thresholds are floats; out of range ones fall back to the default', () => {
    const s = normalizeUnitSliders(canny, { processor_res: 64.9, threshold_a: 100, threshold_b: 256 });
    expect(pyStr(s.processor_res)).toBe('64');
    expect(pyStr(s.threshold_a)).toBe('100.0');
    expect(pyStr(s.threshold_b)).toBe('200');
    expect(pyStr(normalizeUnitSliders(canny, { processor_res: 32, threshold_a: 0.5 }).processor_res)).toBe('512');
    expect(pyStr(normalizeUnitSliders(canny, { threshold_a: 0.5 }).threshold_a)).toBe('100');
    expect(pyStr(normalizeUnitSliders(canny, { threshold_a: 1 }).threshold_a)).toBe('1.0');
  });
  it('none: hidden sliders default to 0.5 (float)', () => {
    const s = normalizeUnitSliders(controlNetModule('none'), { threshold_a: 0.25 });
    expect([pyStr(s.processor_res), pyStr(s.threshold_a), pyStr(s.threshold_b)]).toEqual(['512', '0.25', '0.5']);
  });
  it('a hidden resolution slider stores 0.5 for any usual resolution', () => {
    expect(pyStr(normalizeUnitSliders(controlNetModule('invert'), { processor_res: 512 }).processor_res)).toBe('0.5');
    expect(pyStr(normalizeUnitSliders(controlNetModule('inpaint_only'), {}).processor_res)).toBe('0.5');
  });

  it('reproduces every fixture unit\'s Processor Res / Threshold A / Threshold B infotext', () => {
    const e2e = JSON.parse(readFileSync(fixturePath('sd1-controlnet', 'e2e.json'), 'utf8')) as {
      cases: { name: string; infotext: string; controlnet_units: Record<string, unknown>[] }[];
    };
    let checked = 0;
    for (const c of e2e.cases) {
      c.controlnet_units.forEach((u, i) => {
        const m = controlNetModule(u.module as string);
        const s = normalizeUnitSliders(m, {
          processor_res: u.processor_res as number | undefined,
          threshold_a: u.threshold_a as number | undefined,
          threshold_b: u.threshold_b as number | undefined,
        });
        const part = `Processor Res: ${pyStr(s.processor_res)}, Threshold A: ${pyStr(s.threshold_a)}, Threshold B: ${pyStr(s.threshold_b)}`;
        const unitText = c.infotext.split(`ControlNet ${i}: "`)[1]!.split('"')[0]!;
        expect(unitText, c.name).toContain(part);
        checked++;
      });
    }
    expect(checked).toBe(7);
  });
});

describe('pyFloatRepr (Python repr of a float)', () => {
  it.each([
    [100, '100.0'],
    [0.5, '0.5'],
    [0.6, '0.6'],
    [-2.5, '-2.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [123456789012345.6, '123456789012345.6'],
    [1e16, '1e+16'],
    [1.25e22, '1.25e+22'],
    [0, '0.0'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('%s → %s', (x, s) => {
    expect(pyFloatRepr(x)).toBe(s);
  });
});

describe('resizeModeFromApi', () => {
  it('accepts the enum values and the extension\'s aliases, defaults to Crop and Resize', () => {
    expect(resizeModeFromApi(undefined)).toBe('Crop and Resize');
    expect(resizeModeFromApi('Just Resize')).toBe('Just Resize');
    expect(resizeModeFromApi('Inner Fit (Scale to Fit)')).toBe('Crop and Resize');
    expect(resizeModeFromApi('Envelope (Outer Fit)')).toBe('Resize and Fill');
    expect(() => resizeModeFromApi('Stretch')).toThrowError(expect.objectContaining({ code: 'bad_input' }));
  });
});

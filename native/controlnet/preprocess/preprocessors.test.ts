// Hand-checked cases for the model-free preprocessors, the inpaint hint, the resize modes and the
// coded errors. The byte-exact fixture comparison is preprocess-fixture.test.ts.
import { describe, expect, it } from 'vitest';
import { makeRaster, type Raster } from '../../pipelines/image-ops.js';
import { applyResizeMode, highQualityResize } from './detectmap.js';
import { lvminThin, nakeNms } from './lvmin-thin.js';
import { controlHintFromDetected, detectControlMap, pixelPerfectResolution, preprocessControlImage, type PreprocessOptions } from './preprocess-control-image.js';
import { hwc3, preprocessInvert, preprocessLineartStandard, preprocessScribbleXdog, preprocessThreshold, preprocessTileResample } from './preprocessors.js';

function rgb(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Raster {
  const r = makeRaster(w, h, 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) r.data.set(f(x, y), (y * w + x) * 3);
  return r;
}
const base: Omit<PreprocessOptions, 'module'> = {
  processorRes: 64,
  thresholdA: 100,
  thresholdB: 200,
  pixelPerfect: false,
  resizeMode: 'Just Resize',
  width: 64,
  height: 64,
};

describe('model-free preprocessors', () => {
  it('invert: 255 − value', () => {
    expect(Array.from(preprocessInvert(rgb(1, 1, () => [0, 10, 255])).data)).toEqual([255, 245, 0]);
  });
  it('HWC3 composites RGBA on white in float32 and truncates', () => {
    const rgba: Raster = { width: 2, height: 1, channels: 4, data: Uint8Array.of(100, 0, 255, 128, 100, 0, 255, 0) };
    // 100·α + 255·(1 − α) with α = f32(128/255): 177.196 → 177; 0 → 126.99999 (float32) → 126
    expect(Array.from(hwc3(rgba).data)).toEqual([177, 126, 255, 255, 255, 255]);
  });
  it('threshold: 255 where the channel minimum is strictly above the threshold', () => {
    const img = rgb(64, 64, (x) => (x < 32 ? [100, 200, 200] : [200, 128, 250]));
    const out = preprocessThreshold(img, 64, 127);
    expect(out.data[0]).toBe(0);
    expect(out.data[(0 * 64 + 40) * 3]).toBe(255);
    expect(preprocessThreshold(img, 64, 128).data[(0 * 64 + 40) * 3]).toBe(0);
  });
  it('tile_resample: identity below 1.1, INTER_AREA to int(size / rate) above', () => {
    const img = rgb(4, 4, (x, y) => [x * 10 + y, 0, 255]);
    expect(preprocessTileResample(img, 1.05)).toEqual(img);
    const half = preprocessTileResample(img, 2);
    expect([half.width, half.height]).toEqual([2, 2]);
    expect(Array.from(half.data.subarray(0, 3))).toEqual([(0 + 10 + 1 + 11 + 2) >> 2, 0, 255]);
    expect(preprocessTileResample(img, 3).width).toBe(1);
  });
  it('scribble_xdog: a flat image has no lines, a dark stroke does', () => {
    const flat = preprocessScribbleXdog(rgb(64, 64, () => [200, 200, 200]), 64, 32);
    expect(flat.data.every((v) => v === 0)).toBe(true);
    const stroke = preprocessScribbleXdog(rgb(64, 64, (x) => (x >= 30 && x < 33 ? [0, 0, 0] : [255, 255, 255])), 64, 32);
    expect(stroke.data[(10 * 64 + 31) * 3]).toBe(255);
    expect(stroke.data[(10 * 64 + 5) * 3]).toBe(0);
    expect([stroke.width, stroke.height, stroke.channels]).toEqual([64, 64, 3]);
  });
  it('lineart_standard: flat → zeros (median of nothing → 16), a dark stroke → 127·intensity/median', () => {
    expect(preprocessLineartStandard(rgb(64, 64, () => [90, 90, 90]), 64).data.every((v) => v === 0)).toBe(true);
    const out = preprocessLineartStandard(rgb(64, 64, (x) => (x === 31 ? [0, 0, 0] : [255, 255, 255])), 64);
    const line = out.data[(20 * 64 + 31) * 3]!;
    expect(line).toBeGreaterThan(100);
    expect(out.data[(20 * 64 + 5) * 3]).toBe(0);
  });
});

describe('binary map helpers', () => {
  it('nakeNms drops a pixel that is below a neighbour in all four directions', () => {
    const g: Raster = { width: 3, height: 3, channels: 1, data: Uint8Array.of(9, 9, 9, 9, 1, 9, 9, 9, 9) };
    expect(Array.from(nakeNms(g).data)).toEqual([9, 9, 9, 9, 0, 9, 9, 9, 9]);
  });
  it('lvminThin keeps an isolated pixel and thins a thick bar to a subset', () => {
    const dot: Raster = { width: 3, height: 3, channels: 1, data: Uint8Array.of(0, 0, 0, 0, 255, 0, 0, 0, 0) };
    expect(Array.from(lvminThin(dot, false).data)).toEqual(Array.from(dot.data));
    const bar = makeRaster(9, 7, 1);
    for (let y = 2; y < 5; y++) for (let x = 1; x < 8; x++) bar.data[y * 9 + x] = 255;
    const thin = lvminThin(bar, true);
    const count = (r: Raster): number => r.data.filter((v) => v > 0).length;
    expect(count(thin)).toBeGreaterThan(0);
    expect(count(thin)).toBeLessThan(count(bar));
    for (let i = 0; i < bar.data.length; i++) if (thin.data[i]) expect(bar.data[i]).toBe(255);
  });
  it('high_quality_resize: INTER_NEAREST for 3–199 colours', () => {
    const three = rgb(3, 1, (x) => [x * 50, 7, 9]);
    expect(Array.from(highQualityResize(three, 6, 1).data).filter((_, i) => i % 3 === 0)).toEqual([0, 0, 50, 50, 100, 100]);
    // two colours that are not black/white: not binary, so INTER_CUBIC, which overshoots:
    // x = 0: (40·(−72 + 536 + 1800) + 200·(−216)) / 2048 = 23.1; x = 3: (40·(−216) + 200·2264) / 2048 = 216.9
    const two = rgb(2, 1, (x) => (x ? [200, 0, 0] : [40, 0, 0]));
    expect(Array.from(highQualityResize(two, 4, 1).data).filter((_, i) => i % 3 === 0)).toEqual([23, 76, 164, 217]);
  });
});

describe('resize modes', () => {
  it('Resize and Fill pastes centred on the border median', () => {
    const map = rgb(2, 4, (x, y) => [y < 2 ? 10 : 30, 0, 0]); // 2 wide, 4 high → 4×4: k = 1
    const out = applyResizeMode(map, 'Resize and Fill', 4, 4);
    // borders: rows 0 and 3, columns 0 and 1 → R values median of [10,10,30,30,10,10,30,30,10,10,30,30] = 20
    expect(Array.from(out.data.subarray(0, 3))).toEqual([20, 0, 0]);
    expect(Array.from(out.data.subarray(3, 6))).toEqual([10, 0, 0]);
  });
  it('Crop and Resize crops the centre', () => {
    const map = rgb(6, 4, (x) => [x, 0, 0]);
    const out = applyResizeMode(map, 'Crop and Resize', 4, 4);
    expect([out.width, out.height]).toEqual([4, 4]);
    expect(Array.from(out.data.subarray(0, 12)).filter((_, i) => i % 3 === 0)).toEqual([1, 2, 3, 4]);
  });
  it('pixel perfect: max (min for Resize and Fill) of the scale factors × the short side', () => {
    expect(pixelPerfectResolution(96, 80, 64, 64, 'Crop and Resize')).toBe(64);
    expect(pixelPerfectResolution(48, 64, 64, 64, 'Resize and Fill')).toBe(48);
    expect(pixelPerfectResolution(48, 64, 64, 64, 'Crop and Resize')).toBe(64);
    expect(pixelPerfectResolution(100, 50, 64, 64, 'Resize and Fill')).toBe(32);
  });
});

describe('inpaint_only', () => {
  const img = rgb(64, 64, () => [51, 102, 204]);
  const mask = makeRaster(64, 64, 1);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 20; x++) mask.data[y * 64 + x] = 255;
  it('hint = image / 255, −1 where the mask is set', () => {
    const r = preprocessControlImage(img, { ...base, module: 'inpaint_only', mask });
    const n = 64 * 64;
    expect(r.hint.data[0]).toBe(-1);
    expect(r.hint.data[2 * n + 0]).toBe(-1);
    expect(r.hint.data[30]).toBe(Math.fround(51 / 255));
    expect(r.hint.data[n + 30]).toBe(Math.fround(102 / 255));
    expect(r.detectedRaw.channels).toBe(4);
    expect(r.preview.data[3]).toBe(255 - 127); // visualize_inpaint_mask: 255 − mask // 2
  });
  it('without a mask nothing is masked; Resize and Fill masks the filled border', () => {
    const none = preprocessControlImage(img, { ...base, module: 'inpaint_only' });
    expect(none.hint.data.every((v) => v >= 0)).toBe(true);
    const narrow = rgb(48, 64, () => [51, 51, 51]);
    const r = preprocessControlImage(narrow, { ...base, module: 'inpaint_only', resizeMode: 'Resize and Fill' });
    expect(r.hint.data[0]).toBe(-1); // column 0 is border fill
    expect(r.hint.data[8]).toBe(Math.fround(51 / 255));
    expect(r.hint.data[63]).toBe(-1);
  });
});

describe('hires hint from the same detected map', () => {
  it('upscales a one-pixel canny map through the binary path: 0/255 only, thinned', () => {
    const img = rgb(64, 64, (x, y) => ((x - 32) ** 2 + (y - 32) ** 2 < 400 ? [230, 40, 40] : [20, 20, 90]));
    const r = preprocessControlImage(img, { ...base, module: 'canny', resizeMode: 'Crop and Resize' });
    const hr = controlHintFromDetected(r.detectedRaw, { module: 'canny', resizeMode: 'Crop and Resize', width: 128, height: 128 });
    expect([hr.hint.width, hr.hint.height]).toEqual([128, 128]);
    const values = new Set(hr.preview.data);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    const lit = (d: Uint8Array): number => d.filter((v) => v === 255).length;
    // a 2× upscale of a one-pixel ring stays thin: far fewer than 4× the lit pixels
    expect(lit(hr.preview.data)).toBeGreaterThan(lit(r.detectedRaw.data));
    expect(lit(hr.preview.data)).toBeLessThan(3 * lit(r.detectedRaw.data));
  });
});

describe('detectControlMap (/controlnet/detect)', () => {
  it('returns the preprocessor output before any resize mode, inpaint with the visualised mask', () => {
    const img = rgb(40, 24, (x) => (x < 20 ? [0, 0, 0] : [255, 255, 255]));
    const edges = detectControlMap(img, { module: 'canny', processorRes: 48, thresholdA: 100, thresholdB: 200 });
    expect([edges.width, edges.height, edges.channels]).toEqual([80, 48, 3]); // short side 24 → 48
    const mask = makeRaster(40, 24, 1);
    mask.data.fill(255, 0, 40);
    const vis = detectControlMap(img, { module: 'inpaint_only', processorRes: 0.5, thresholdA: 0.5, thresholdB: 0.5, mask });
    expect([vis.channels, vis.data[3], vis.data[40 * 4 + 3]]).toEqual([4, 128, 255]);
  });
});

describe('errors', () => {
  const img = rgb(8, 8, () => [0, 0, 0]);
  it('codes unknown and unavailable modules and bad input, naming the module', () => {
    expect(() => preprocessControlImage(img, { ...base, module: 'sobel' })).toThrowError(expect.objectContaining({ code: 'unknown_controlnet_module', module: 'sobel' }));
    expect(() => preprocessControlImage(img, { ...base, module: 'depth_midas' })).toThrowError(
      expect.objectContaining({ code: 'controlnet_module_unavailable', message: expect.stringContaining('depth_midas') }),
    );
    expect(() => preprocessControlImage(img, { ...base, module: 'canny', mask: makeRaster(4, 4, 1) })).toThrowError(expect.objectContaining({ code: 'bad_input' }));
    expect(() => preprocessControlImage(img, { ...base, module: 'canny', resizeMode: 'Stretch' as never })).toThrowError(expect.objectContaining({ code: 'bad_input' }));
  });
  it('refuses a processor resolution that scales the image to nothing', () => {
    expect(() => preprocessControlImage(img, { ...base, module: 'canny', processorRes: 0 })).toThrowError(expect.objectContaining({ code: 'bad_input' }));
  });
  it('accepts gray images (HWC3 repeats the channel)', () => {
    const g: Raster = { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(10) };
    expect(Array.from(preprocessControlImage(g, { ...base, module: 'invert', width: 8, height: 8 }).detectedRaw.data.subarray(0, 3))).toEqual([245, 245, 245]);
  });
  it('accepts labels as module ids', () => {
    const r = preprocessControlImage(rgb(64, 64, () => [0, 10, 255]), { ...base, module: 'invert (from white bg & black line)' });
    expect(Array.from(r.detectedRaw.data.subarray(0, 3))).toEqual([255, 245, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { countMasked, maskToRgba, overlayRgba, parseHexColor, rgbaToCoverage } from './mask-export.js';
import { createMask } from './stroke-raster.js';

describe('mask export', () => {
  it('writes opaque grey RGBA (white = inpaint) and reads it back', () => {
    const m = createMask(3, 2);
    m.data.set([0, 255, 128, 0, 0, 7]);
    const rgba = maskToRgba(m);
    expect([...rgba.subarray(4, 8)]).toEqual([255, 255, 255, 255]);
    expect([...rgba.subarray(0, 4)]).toEqual([0, 0, 0, 255]);
    expect([...rgba.subarray(8, 12)]).toEqual([128, 128, 128, 255]);
    expect([...rgbaToCoverage(rgba, 3, 2).data]).toEqual([...m.data]);
    expect(countMasked(m)).toBe(2);
  });

  it('colours the overlay of a rectangle with alpha = coverage', () => {
    const m = createMask(4, 4);
    m.data[1 * 4 + 2] = 200;
    const px = overlayRgba(m, { x: 1, y: 1, w: 2, h: 2 }, [10, 20, 30]);
    expect(px.length).toBe(16);
    expect([...px.subarray(4, 8)]).toEqual([10, 20, 30, 200]);
    expect(px[3]).toBe(0);
  });

  it('parses overlay colours', () => {
    expect(parseHexColor('#00ff80')).toEqual([0, 255, 128]);
    expect(parseHexColor('red')).toEqual([255, 48, 48]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  blurMask,
  compositeOverlay,
  crop,
  cropRegion,
  expandCropRegion,
  gaussianKernel,
  makeOverlay,
  makeRaster,
  paste,
  toBinaryMask,
} from './image-ops.js';

function maskWithRect(w: number, h: number, x1: number, y1: number, x2: number, y2: number) {
  const m = makeRaster(w, h, 1);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m.data[y * w + x] = 255;
  return m;
}

describe('mask geometry (A1111 masking.py)', () => {
  it('finds the padded bounding box of the painted pixels, clamped to the image', () => {
    const m = maskWithRect(64, 48, 10, 5, 20, 15);
    expect(cropRegion(m, 0)).toEqual({ x1: 10, y1: 5, x2: 20, y2: 15 });
    expect(cropRegion(m, 8)).toEqual({ x1: 2, y1: 0, x2: 28, y2: 23 });
    expect(cropRegion(makeRaster(8, 8, 1), 4)).toBeNull();
  });

  it('expands the crop to the processing aspect ratio and keeps it inside the image', () => {
    // 10 wide, 20 tall crop, processing 64x64 -> must become 20x20.
    const r = expandCropRegion({ x1: 30, y1: 10, x2: 40, y2: 30 }, 64, 64, 100, 100);
    expect(r.x2 - r.x1).toBe(20);
    expect(r.y2 - r.y1).toBe(20);
    expect(r).toEqual({ x1: 25, y1: 10, x2: 45, y2: 30 });
    // Against the right edge: shifted left, not clipped.
    const e = expandCropRegion({ x1: 95, y1: 0, x2: 100, y2: 30 }, 64, 64, 100, 100);
    expect(e).toEqual({ x1: 70, y1: 0, x2: 100, y2: 30 });
  });

  it('crop then paste restores the source region', () => {
    const img = makeRaster(16, 16, 3);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 7) % 256;
    const part = crop(img, { x1: 3, y1: 4, x2: 11, y2: 9 });
    expect(part.width).toBe(8);
    expect(part.height).toBe(5);
    const dst = makeRaster(16, 16, 3);
    paste(dst, part, 3, 4);
    for (let y = 4; y < 9; y++) for (let x = 3; x < 11; x++) for (let k = 0; k < 3; k++) {
      expect(dst.data[(y * 16 + x) * 3 + k]).toBe(img.data[(y * 16 + x) * 3 + k]);
    }
    expect(dst.data[0]).toBe(0);
  });
});

describe('mask values', () => {
  it('uses the alpha channel of an RGBA mask when it is not fully opaque, and thresholds it at > 128', () => {
    const m = makeRaster(3, 1, 4);
    m.data.set([255, 255, 255, 127, 0, 0, 0, 200, 0, 0, 0, 128]);
    expect(Array.from(toBinaryMask(m, true).data)).toEqual([0, 255, 0]);
    expect(Array.from(toBinaryMask(m, false).data)).toEqual([127, 200, 128]);
    const opaque = makeRaster(2, 1, 4);
    opaque.data.set([255, 255, 255, 255, 10, 10, 10, 255]);
    // Fully opaque: the luminance, not thresholded.
    expect(Array.from(toBinaryMask(opaque, true).data)).toEqual([255, 10]);
  });

  it('keeps a grey (non-alpha) mask soft, as A1111 converts it to L without a threshold', () => {
    const grey = makeRaster(3, 1, 1);
    grey.data.set([0, 100, 200]);
    expect(Array.from(toBinaryMask(grey, true).data)).toEqual([0, 100, 200]);
    const rgb = makeRaster(2, 1, 3);
    rgb.data.set([100, 100, 100, 255, 0, 0]);
    // PIL's L of (255, 0, 0) is 76.
    expect(Array.from(toBinaryMask(rgb, true).data)).toEqual([100, 76]);
  });

  it('gaussian kernel has cv2 size and sums to one; blur spreads a line symmetrically', () => {
    const k = gaussianKernel(4);
    expect(k.length).toBe(21);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const m = maskWithRect(31, 1, 15, 0, 16, 1);
    const b = blurMask(m, 2, 0);
    expect(b.data[15]).toBeLessThan(255);
    expect(b.data[14]).toBe(b.data[16]);
    expect(b.data[15]).toBeGreaterThan(b.data[14]!);
    expect(b.data[0]).toBe(0);
  });

  it('overlay composite restores the original exactly where the mask is 0 and keeps generated pixels where it is 255', () => {
    const orig = makeRaster(4, 1, 3, 200);
    const gen = makeRaster(4, 1, 3, 10);
    const mask = makeRaster(4, 1, 1);
    mask.data.set([0, 255, 128, 0]);
    const out = compositeOverlay(gen, makeOverlay(orig, mask));
    expect(Array.from(out.data.subarray(0, 3))).toEqual([200, 200, 200]);
    expect(Array.from(out.data.subarray(3, 6))).toEqual([10, 10, 10]);
    expect(out.data[6]).toBeGreaterThan(10);
    expect(out.data[6]).toBeLessThan(200);
  });
});

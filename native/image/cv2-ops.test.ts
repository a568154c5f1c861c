// Hand-checked cases for the OpenCV re-implementations (expected values derived by hand from
// OpenCV's formulas; see each file's header). The fixture test of native/controlnet/preprocess
// checks them together on real images.
import { describe, expect, it } from 'vitest';
import type { Raster } from '../pipelines/image-ops.js';
import { cv2Canny } from './cv2-canny.js';
import { cv2GaussianBlurF32, cv2GaussianKernel } from './cv2-gaussian.js';
import { cv2Dilate, cv2Erode, cv2HitMiss, onesKernel } from './cv2-morph.js';
import { cv2Resize, saturateU8 } from './cv2-resize.js';
import { otsuThreshold, thresholdBinary, thresholdOtsu } from './cv2-threshold.js';

const gray = (w: number, h: number, values: number[]): Raster => ({ width: w, height: h, channels: 1, data: Uint8Array.from(values) });

describe('cv2Resize', () => {
  it('copies when the size is unchanged', () => {
    const src = gray(2, 1, [3, 4]);
    const out = cv2Resize(src, 2, 1, 'cubic');
    expect(Array.from(out.data)).toEqual([3, 4]);
    expect(out.data).not.toBe(src.data);
  });

  it('INTER_AREA 2×2 rounds (sum + 2) >> 2, i.e. half up', () => {
    expect(Array.from(cv2Resize(gray(2, 2, [0, 255, 255, 0]), 1, 1, 'area').data)).toEqual([128]);
    // 10 / 4 = 2.5: the 2×2 kernel gives 3 where saturate_cast would give 2
    expect(Array.from(cv2Resize(gray(2, 2, [2, 3, 2, 3]), 1, 1, 'area').data)).toEqual([3]);
    const rgb: Raster = { width: 2, height: 2, channels: 3, data: Uint8Array.of(0, 10, 255, 4, 10, 255, 8, 10, 0, 12, 10, 0) };
    expect(Array.from(cv2Resize(rgb, 1, 1, 'area').data)).toEqual([6, 10, 128]);
  });

  it('INTER_AREA 3×3 averages in float32 with round half to even', () => {
    expect(Array.from(cv2Resize(gray(3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]), 1, 1, 'area').data)).toEqual([5]);
    expect(Array.from(cv2Resize(gray(3, 3, [0, 0, 0, 0, 13, 0, 0, 0, 0]), 1, 1, 'area').data)).toEqual([1]);
  });

  it('INTER_AREA non-integer factor weights the covered cells (3 → 2: 2/3 + 1/3)', () => {
    expect(Array.from(cv2Resize(gray(3, 1, [0, 90, 30]), 2, 1, 'area').data)).toEqual([30, 50]);
  });

  it('INTER_AREA growing an axis is OpenCV\'s area-mode bilinear (cell overlap weights)', () => {
    // 2 → 3: fx = 0, 0.5, 0 (snapped at the right edge) → [a, (a + b)/2 rounded, b]
    expect(Array.from(cv2Resize(gray(2, 1, [10, 21]), 3, 1, 'area').data)).toEqual([10, 16, 21]);
  });

  it('INTER_CUBIC uses Keys a = −0.75 with 11-bit weights and replicated borders', () => {
    // x-taps for 2 → 4: fx = 0.75, 0.25, 0.75, 0.25 → weights ·2048 = [-72, 536, 1800, -216] / mirrored
    expect(Array.from(cv2Resize(gray(2, 1, [0, 255]), 4, 1, 'cubic').data)).toEqual([0, 58, 197, 255]);
    const flat = cv2Resize(gray(2, 2, [100, 100, 100, 100]), 4, 4, 'cubic');
    expect(Array.from(flat.data)).toEqual(new Array(16).fill(100));
  });

  it('INTER_NEAREST takes floor(x · src/dst)', () => {
    expect(Array.from(cv2Resize(gray(2, 1, [7, 9]), 5, 1, 'nearest').data)).toEqual([7, 7, 7, 9, 9]);
    expect(Array.from(cv2Resize(gray(4, 1, [1, 2, 3, 4]), 2, 1, 'nearest').data)).toEqual([1, 3]);
  });

  it('resizes float32 images too', () => {
    const f = { width: 2, height: 2, channels: 1 as const, data: Float32Array.of(1, 2, 3, 4) };
    expect(Array.from(cv2Resize(f, 1, 1, 'area').data)).toEqual([2.5]);
    expect(Array.from(cv2Resize(f, 4, 4, 'nearest').data.subarray(0, 4))).toEqual([1, 1, 2, 2]);
  });

  it('saturateU8 rounds half to even and clamps', () => {
    expect([0.5, 1.5, 2.5, -3, 300, 127.5].map(saturateU8)).toEqual([0, 2, 2, 0, 255, 128]);
  });
});

describe('cv2Canny', () => {
  const step = gray(4, 3, [0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255]);
  it('marks the first column of a step (m > left, m >= right)', () => {
    expect(Array.from(cv2Canny(step, 100, 200).data)).toEqual([0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0]);
  });
  it('swaps thresholds given in the wrong order', () => {
    expect(Array.from(cv2Canny(step, 200, 100).data)).toEqual(Array.from(cv2Canny(step, 100, 200).data));
  });
  it('keeps only weak edges connected to strong ones', () => {
    // dx = 4·(p[x+1] − p[x−1]): magnitudes 40 at x = 1 and 360 at x = 4 (after NMS)
    const row = gray(8, 1, [0, 0, 10, 10, 10, 100, 100, 100]);
    expect(Array.from(cv2Canny(row, 30, 100).data)).toEqual([0, 0, 0, 0, 255, 0, 0, 0]);
    expect(Array.from(cv2Canny(row, 30, 35).data)).toEqual([0, 255, 0, 0, 255, 0, 0, 0]);
    expect(Array.from(cv2Canny(row, 360, 400).data)).toEqual(new Array(8).fill(0)); // m > low is strict
  });
  it('uses the channel with the largest gradient on colour images', () => {
    const rgb: Raster = { width: 4, height: 3, channels: 3, data: new Uint8Array(36) };
    for (let i = 0; i < 12; i++) rgb.data[i * 3 + 2] = step.data[i]!; // the step only in blue
    expect(Array.from(cv2Canny(rgb, 100, 200).data)).toEqual(Array.from(cv2Canny(step, 100, 200).data));
  });
  it('squares the thresholds with the L2 gradient', () => {
    // |dx| = 1020, L2 magnitude 1020² = 1040400 > 1000² but not > 1100²
    expect(cv2Canny(step, 1000, 1000, true).data[1]).toBe(255);
    expect(cv2Canny(step, 1100, 1100, true).data[1]).toBe(0);
  });
});

describe('morphology', () => {
  it('erode/dilate ignore pixels outside the image', () => {
    const r = gray(3, 1, [9, 5, 7]);
    expect(Array.from(cv2Erode(r, onesKernel(3)).data)).toEqual([5, 5, 5]);
    expect(Array.from(cv2Dilate(r, onesKernel(3)).data)).toEqual([9, 9, 7]);
    const line = { rows: 3, cols: 3, data: [0, 1, 0, 0, 1, 0, 0, 1, 0] };
    expect(Array.from(cv2Dilate(r, line).data)).toEqual([9, 5, 7]);
  });
  it('a full rectangle (separable path) equals the same element inside a larger sparse kernel', () => {
    const img: Raster = { width: 7, height: 5, channels: 3, data: Uint8Array.from({ length: 105 }, (_, i) => (i * 37) % 251) };
    const sparse = { rows: 5, cols: 5, data: Array.from({ length: 25 }, (_, i) => (i % 5 >= 1 && i % 5 <= 3 && i >= 5 && i < 20 ? 1 : 0)) };
    expect(Array.from(cv2Erode(img, onesKernel(3)).data)).toEqual(Array.from(cv2Erode(img, sparse).data));
    expect(Array.from(cv2Dilate(img, onesKernel(3)).data)).toEqual(Array.from(cv2Dilate(img, sparse).data));
  });
  it('hit-or-miss finds an isolated pixel; outside the image every condition holds', () => {
    const iso = { rows: 3, cols: 3, data: [-1, -1, -1, -1, 1, -1, -1, -1, -1] };
    expect(Array.from(cv2HitMiss(gray(3, 3, [0, 0, 0, 0, 255, 0, 0, 0, 0]), iso).data)).toEqual([0, 0, 0, 0, 255, 0, 0, 0, 0]);
    expect(Array.from(cv2HitMiss(gray(3, 3, [0, 0, 0, 0, 255, 255, 0, 0, 0]), iso).data)).toEqual(new Array(9).fill(0));
    expect(Array.from(cv2HitMiss(gray(1, 1, [255]), iso).data)).toEqual([255]);
  });
});

describe('threshold', () => {
  it('Otsu picks the first threshold of maximal between-class variance', () => {
    const img = gray(4, 1, [10, 10, 200, 200]);
    expect(otsuThreshold(img)).toBe(10);
    expect(Array.from(thresholdOtsu(img).data)).toEqual([0, 0, 255, 255]);
    expect(otsuThreshold(gray(3, 1, [0, 100, 255]))).toBe(100); // classes {0,100} | {255}: σ² 0.222·… beats {0} | {100,255}
  });
  it('binary threshold is strict', () => {
    expect(Array.from(thresholdBinary(gray(3, 1, [5, 6, 7]), 6, 255).data)).toEqual([0, 0, 255]);
  });
});

describe('cv2GaussianBlurF32', () => {
  it('builds the normalised float32 kernel of ksize cvRound(8σ + 1) | 1', () => {
    const k = cv2GaussianKernel(5, 0.5);
    expect(k.length).toBe(5);
    expect(k[2]).toBeCloseTo(0.7865707, 6); // 1 / (1 + 2e^-2 + 2e^-8)
    expect(k[1]).toBeCloseTo(0.1064508, 6);
    expect(k[0]! + k[1]! + k[2]! + k[3]! + k[4]!).toBeCloseTo(1, 6);
  });
  it('keeps a constant image constant and spreads an impulse by the kernel', () => {
    const flat = { width: 7, height: 5, channels: 3 as const, data: new Float32Array(105).fill(42) };
    for (const v of cv2GaussianBlurF32(flat, 0.5).data) expect(v).toBeCloseTo(42, 4);
    const imp = { width: 5, height: 5, channels: 1 as const, data: new Float32Array(25) };
    imp.data[12] = 1;
    const out = cv2GaussianBlurF32(imp, 0.5).data;
    const k = cv2GaussianKernel(5, 0.5);
    expect(out[12]).toBeCloseTo(k[2]! * k[2]!, 7);
    expect(out[11]).toBeCloseTo(k[1]! * k[2]!, 7);
  });
});

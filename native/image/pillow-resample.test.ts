// Pillow's resize, value for value: the final LANCZOS resize of every Upscaler.upscale case of the
// upscale-tiny fixture is reproduced exactly from the last pass's PNG (integer arithmetic, same
// coefficients), plus the properties of the other filters that follow from Resample.c.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { decodeImage } from '../pipelines/resize.js';
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import { axisCoefficients, pillowResize, PILLOW_FILTERS } from './pillow-resample.js';

interface Case {
  name: string;
  passes?: Array<{ image: string }>;
  final_resize?: { from_size: [number, number]; to_size: [number, number] };
  output: string;
}
const dir = (n: string) => fixturePath('upscale-tiny', n);
const cases = (JSON.parse(readFileSync(dir('cases.json'), 'utf8')) as { cases: Case[] }).cases.filter((c) => c.final_resize);

function raster(w: number, h: number, f: (x: number, y: number, c: number) => number, channels: 1 | 3 = 3): Raster {
  const r = makeRaster(w, h, channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) r.data[(y * w + x) * channels + c] = f(x, y, c);
  return r;
}

describe('pillowResize LANCZOS against Pillow 9.4 (upscale-tiny final resizes)', () => {
  it('has the five Upscaler.upscale cases', () => expect(cases.length).toBe(5));
  for (const c of cases) {
    it(`${c.name}: ${c.final_resize!.from_size.join('×')} → ${c.final_resize!.to_size.join('×')} is exact`, async () => {
      const src = await decodeImage(readFileSync(dir(c.passes!.at(-1)!.image)));
      const want = await decodeImage(readFileSync(dir(c.output)));
      const [w, h] = c.final_resize!.to_size;
      const got = pillowResize(src, w, h, 'lanczos');
      expect([got.width, got.height]).toEqual([w, h]);
      expect(Buffer.from(got.data).equals(Buffer.from(want.data))).toBe(true);
    });
  }
});

describe('pillowResize filters', () => {
  const img = raster(13, 9, (x, y, c) => (x * 37 + y * 91 + c * 53) % 256);

  it('normalises every filter to unity gain: a flat image stays flat, up and down', () => {
    const flat = raster(11, 7, () => 173);
    for (const f of PILLOW_FILTERS) {
      for (const [w, h] of [[23, 15], [5, 3], [11, 20]] as const) {
        const out = pillowResize(flat, w, h, f);
        expect(out.data.every((v) => v === 173), `${f} ${w}×${h}`).toBe(true);
      }
    }
  });

  it('fixed-point coefficients sum to 2^22 within rounding', () => {
    for (const f of ['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const) {
      const c = axisCoefficients(40, 17, f);
      for (let o = 0; o < 17; o++) {
        let s = 0;
        for (let i = 0; i < c.count[o]!; i++) s += c.k[o * c.ksize + i]!;
        expect(Math.abs(s - (1 << 22)), `${f} ${o}`).toBeLessThanOrEqual(c.count[o]!);
      }
    }
  });

  it('BOX halving averages 2×2 blocks with Pillow rounding', () => {
    const out = pillowResize(img, 6, 4, 'box');
    // 13 → 6 is not exact halving; use an even image for the check.
    const even = raster(8, 6, (x, y, c) => (x * 29 + y * 71 + c * 13) % 256);
    const half = pillowResize(even, 4, 3, 'box');
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (xx: number, yy: number) => even.data[(yy * 8 + xx) * 3 + c]!;
          // Horizontal pass rounds to uint8 first, then the vertical pass (Pillow's two passes).
          const r0 = Math.floor((at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + 1) / 2);
          const r1 = Math.floor((at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1) + 1) / 2);
          expect(half.data[(y * 4 + x) * 3 + c]).toBe(Math.floor((r0 + r1 + 1) / 2));
        }
      }
    }
    expect(out.width).toBe(6);
  });

  it('NEAREST picks the source pixel under each output centre (Geometry.c scale)', () => {
    const up = pillowResize(img, 26, 27, 'nearest');
    for (let y = 0; y < 27; y++) {
      for (let x = 0; x < 26; x++) {
        const sx = Math.floor(x / 2), sy = Math.floor(y / 3);
        expect(up.data.subarray((y * 26 + x) * 3, (y * 26 + x) * 3 + 3)).toEqual(img.data.subarray((sy * 13 + sx) * 3, (sy * 13 + sx) * 3 + 3));
      }
    }
    const down = pillowResize(img, 4, 3, 'nearest'); // centres at 1.625 + 3.25k → 1, 4, 8, 11
    expect([0, 1, 2, 3].map((x) => down.data[x * 3])).toEqual([1, 4, 8, 11].map((sx) => img.data[(1 * 13 + sx) * 3]));
  });

  it('only resamples the axes that change, and same size is a copy', () => {
    const same = pillowResize(img, 13, 9, 'lanczos');
    expect(same.data).toEqual(img.data);
    expect(same.data).not.toBe(img.data);
    const wide = pillowResize(img, 20, 9, 'bicubic');
    const tall = pillowResize(wide, 20, 5, 'bicubic');
    expect(pillowResize(img, 20, 5, 'bicubic').data).toEqual(tall.data);
  });

  it('refuses empty sizes', () => {
    expect(() => pillowResize(img, 0, 4, 'lanczos')).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { clearMask, clipRect, createMask, invertMask, MAX_BRUSH, maskBounds, radiusFor, stampSegment, stepBrushSize, unionRect, type Mask } from './stroke-raster.js';

function covered(mask: Mask): Set<string> {
  const s = new Set<string>();
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (mask.data[y * mask.width + x]! > 0) s.add(`${x},${y}`);
  return s;
}

const HARD = { mode: 'paint', softness: 0 } as const;

describe('stroke rasterisation', () => {
  it('a horizontal hard stroke of width 8 covers exactly the pixels whose centres are within 4 of it', () => {
    const mask = createMask(64, 48);
    const rect = stampSegment(mask, { x: 10, y: 20, r: 4 }, { x: 50, y: 20, r: 4 }, HARD);
    const got = covered(mask);
    const want = new Set<string>();
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 64; x++) {
        const cx = x + 0.5, cy = y + 0.5;
        const px = Math.min(50, Math.max(10, cx));
        if (Math.hypot(cx - px, cy - 20) <= 4) want.add(`${x},${y}`);
      }
    }
    expect(got).toEqual(want);
    // Rows 16..23 (eight rows: the width) are fully painted along the straight part.
    for (let y = 14; y < 26; y++) expect(mask.data[y * 64 + 30], `row ${y}`).toBe(y >= 16 && y <= 23 ? 255 : 0);
    // Every painted pixel lies inside the returned dirty rectangle.
    const b = maskBounds(mask)!;
    expect(b.x).toBeGreaterThanOrEqual(rect!.x);
    expect(b.y).toBeGreaterThanOrEqual(rect!.y);
    expect(b.x + b.w).toBeLessThanOrEqual(rect!.x + rect!.w);
    expect(b.y + b.h).toBeLessThanOrEqual(rect!.y + rect!.h);
  });

  it('a dot of width 1 covers the one pixel it is on', () => {
    const mask = createMask(8, 8);
    stampSegment(mask, { x: 3.5, y: 5.5, r: 0.5 }, { x: 3.5, y: 5.5, r: 0.5 }, HARD);
    expect([...covered(mask)]).toEqual(['3,5']);
  });

  it('the eraser removes what the brush painted, only where it passes', () => {
    const mask = createMask(40, 40);
    stampSegment(mask, { x: 5, y: 20, r: 6 }, { x: 35, y: 20, r: 6 }, HARD);
    const painted = covered(mask).size;
    stampSegment(mask, { x: 20, y: 0, r: 3 }, { x: 20, y: 40, r: 3 }, { mode: 'erase', softness: 0 });
    for (let y = 14; y < 26; y++) for (let x = 17; x < 23; x++) expect(mask.data[y * 40 + x], `${x},${y}`).toBe(0);
    expect(mask.data[20 * 40 + 10]).toBe(255);
    expect(mask.data[20 * 40 + 30]).toBe(255);
    expect(covered(mask).size).toBe(painted - 6 * 12);
  });

  it('a soft edge falls off from the centre to the radius, and repeated segments never accumulate', () => {
    const mask = createMask(40, 40);
    const seg = [{ x: 20, y: 5, r: 8 }, { x: 20, y: 35, r: 8 }] as const;
    stampSegment(mask, seg[0], seg[1], { mode: 'paint', softness: 1 });
    const row = [...mask.data.subarray(20 * 40 + 11, 20 * 40 + 28)];
    // x = 11 (centre 8.5 from the line) is outside the radius; x = 19 (0.5 from it) nearly full.
    expect(row[8]!).toBeGreaterThan(230);
    for (let i = 0; i < 8; i++) expect(row[i]!).toBeLessThanOrEqual(row[i + 1]!);
    expect(row[0]!).toBe(0);
    const before = [...mask.data];
    stampSegment(mask, seg[0], seg[1], { mode: 'paint', softness: 1 });
    expect([...mask.data]).toEqual(before);
  });

  it('scales the radius by pen pressure only', () => {
    expect(radiusFor(20, 'pen', 0.5)).toBe(5);
    expect(radiusFor(20, 'pen', 0)).toBe(1);
    expect(radiusFor(20, 'mouse', 0.5)).toBe(10);
    expect(radiusFor(20, 'touch', 0.2)).toBe(10);
    expect(radiusFor(0.2, 'mouse', 1)).toBe(0.5);
  });

  it('clips segments to the image and reports nothing for one fully outside', () => {
    const mask = createMask(10, 10);
    expect(stampSegment(mask, { x: -50, y: -50, r: 3 }, { x: -40, y: -50, r: 3 }, HARD)).toBeNull();
    const rect = stampSegment(mask, { x: -5, y: 5, r: 2 }, { x: 15, y: 5, r: 2 }, HARD)!;
    // Conservative bounds: floor(5 − 2) .. ceil(5 + 2); painted rows are 3..6 (centres within 2 of y = 5).
    expect(rect).toEqual({ x: 0, y: 3, w: 10, h: 5 });
    expect(covered(mask).size).toBe(40);
  });

  it('inverts, clears and measures', () => {
    const mask = createMask(4, 3);
    mask.data[5] = 200;
    expect(maskBounds(mask)).toEqual({ x: 1, y: 1, w: 1, h: 1 });
    invertMask(mask);
    expect(mask.data[5]).toBe(55);
    expect(mask.data[0]).toBe(255);
    clearMask(mask);
    expect(maskBounds(mask)).toBeNull();
    expect(unionRect({ x: 1, y: 1, w: 2, h: 2 }, { x: 5, y: 0, w: 1, h: 1 })).toEqual({ x: 1, y: 0, w: 5, h: 3 });
    expect(clipRect({ x: -2, y: 8, w: 5, h: 5 }, 10, 10)).toEqual({ x: 0, y: 8, w: 3, h: 2 });
  });

  it('steps the brush size by about 15 % with [ and ], within the slider range', () => {
    expect(stepBrushSize(40, 1)).toBe(46);
    expect(stepBrushSize(40, -1)).toBe(34);
    expect(stepBrushSize(3, -1)).toBe(2);
    expect(stepBrushSize(1, -1)).toBe(1);
    expect(stepBrushSize(MAX_BRUSH, 1)).toBe(MAX_BRUSH);
  });
});

// ADetailer's mask steps on small hand-made masks (the fixture cases run through scripts/detect.test.ts):
// OpenCV's rectangle kernel anchored at k//2, Pillow's cyclic offset with +y up, merge/invert,
// ratio and top-k filters, sorting, and Pillow's inclusive rectangle for boxes.
import { describe, expect, it } from 'vitest';
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import { dilateErode, filterByRatio, filterKBy, maskFromBox, maskPreprocess, offsetMask, sortBboxes, type Prediction } from './masks.js';
import { pillowResizeL } from './pillow-resize.js';

function dot(w: number, h: number, x: number, y: number): Raster {
  const m = makeRaster(w, h, 1);
  m.data[y * w + x] = 255;
  return m;
}
const on = (m: Raster) => [...m.data.keys()].filter((i) => m.data[i]).map((i) => [i % m.width, Math.floor(i / m.width)]);

describe('ADetailer masks', () => {
  it('dilates with k=4 one pixel left/up and two right/down; erodes back asymmetrically', () => {
    const d = dilateErode(dot(10, 10, 5, 5), 4);
    const xs = on(d).map(([x]) => x), ys = on(d).map(([, y]) => y);
    expect([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]).toEqual([4, 7, 4, 7]);
    const square = maskFromBox([2, 2, 7, 7], 10, 10); // columns/rows 2..7 inclusive
    const e = dilateErode(square, -4);
    const ex = on(e).map(([x]) => x);
    expect([Math.min(...ex), Math.max(...ex)]).toEqual([4, 6]);
  });

  it('offsets cyclically, +y up', () => {
    expect(on(offsetMask(dot(8, 6, 7, 0), 2, 1))).toEqual([[1, 5]]);
  });

  it('merges, inverts and drops masks that became empty', () => {
    const [merged] = maskPreprocess([dot(4, 4, 0, 0), dot(4, 4, 3, 3)], 0, 0, 0, 'Merge');
    expect(on(merged)).toEqual([[0, 0], [3, 3]]);
    const [inv] = maskPreprocess([dot(4, 4, 0, 0)], 0, 0, 0, 'Merge and Invert');
    expect(inv.data.filter((v) => v === 255)).toHaveLength(15);
    expect(maskPreprocess([dot(4, 4, 0, 0)], -3, 0, 0, 'None')).toEqual([]);
  });

  it('filters by ratio and top-k, sorts stably', () => {
    const p: Prediction = { bboxes: [[0, 0, 2, 2], [0, 0, 5, 5], [5, 5, 6, 6]], masks: [0, 1, 2].map((i) => dot(10, 10, i, 0)), confidences: [0.9, 0.5, 0.7], width: 10, height: 10 };
    expect(filterByRatio(p, 0.02, 0.1).bboxes).toEqual([[0, 0, 2, 2]]);
    expect(filterKBy(p, 2, 'Area').bboxes).toEqual([[0, 0, 5, 5], [0, 0, 2, 2]]);
    expect(filterKBy(p, 2, 'Confidence').confidences).toEqual([0.9, 0.7]);
    const sorted = sortBboxes(p, 'Position (center to edge)');
    expect(sorted.bboxes[0]).toEqual([5, 5, 6, 6]);
    expect(sorted.confidences).toEqual(p.confidences); // ADetailer does not reorder confidences
  });

  it('resizes like Pillow: a copy at the same size, an exact 2x shrink of a flat image', () => {
    const flat = makeRaster(8, 8, 1, 200);
    expect(pillowResizeL(flat, 8, 8).data).toEqual(flat.data);
    expect([...pillowResizeL(flat, 4, 4).data]).toEqual(new Array(16).fill(200));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deviceToImage,
  drawTransform,
  fitView,
  imageToScreen,
  MAX_ZOOM,
  pinchView,
  screenToImage,
  snapToGrid,
  wheelFactor,
  zoomAt,
  type Box,
  type View,
} from './canvas-geometry.js';

const BOX: Box = { left: 100, top: 50, width: 400, height: 300 };

describe('canvas geometry', () => {
  it('maps a client point to image pixels under zoom and pan', () => {
    const view: View = { zoom: 2, panX: 20, panY: -10 };
    // Client (100 + 20 + 2·7, 50 − 10 + 2·3) is the corner of pixel (7, 3).
    expect(screenToImage(view, BOX, { x: 134, y: 46 })).toEqual({ x: 7, y: 3 });
    // Half a CSS pixel further in at zoom 2 is a quarter pixel inside.
    expect(screenToImage(view, BOX, { x: 134.5, y: 46.5 })).toEqual({ x: 7.25, y: 3.25 });
    expect(screenToImage({ zoom: 0.5, panX: 0, panY: 0 }, BOX, { x: 110, y: 60 })).toEqual({ x: 20, y: 20 });
  });

  it('takes the device pixel ratio into the draw transform, and device pixels back to image pixels', () => {
    const view: View = { zoom: 1.5, panX: 12, panY: 4 };
    const [a, , , d, e, f] = drawTransform(view, 3);
    expect([a, d, e, f]).toEqual([4.5, 4.5, 36, 12]);
    // The transform sends image (10, 20) to device (a·10 + e, d·20 + f); deviceToImage inverts it.
    const device = { x: a * 10 + e, y: d * 20 + f };
    const back = deviceToImage(view, 3, device);
    expect(back.x).toBeCloseTo(10, 10);
    expect(back.y).toBeCloseTo(20, 10);
  });

  it('round-trips image → screen → image for any view', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 40, noNaN: true }),
        fc.double({ min: -5000, max: 5000, noNaN: true }),
        fc.double({ min: -5000, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 4096, noNaN: true }),
        fc.double({ min: 0, max: 4096, noNaN: true }),
        (zoom, panX, panY, x, y) => {
          const view = { zoom, panX, panY };
          const back = screenToImage(view, BOX, imageToScreen(view, BOX, { x, y }));
          expect(back.x).toBeCloseTo(x, 6);
          expect(back.y).toBeCloseTo(y, 6);
        },
      ),
    );
  });

  it('fits the image centred inside the margin', () => {
    const v = fitView(1024, 512, 400, 300, 10);
    expect(v.zoom).toBeCloseTo(380 / 1024, 10);
    expect(v.panX).toBeCloseTo(10, 10);
    expect(v.panY).toBeCloseTo((300 - 512 * v.zoom) / 2, 10);
    const tall = fitView(100, 400, 400, 300, 0);
    expect(tall.zoom).toBe(0.75);
    expect(tall.panY).toBe(0);
    expect(tall.panX).toBe((400 - 75) / 2);
  });

  it('zooms around the cursor: the pixel under it stays under it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.double({ min: 0, max: 400, noNaN: true }),
        fc.double({ min: 0, max: 300, noNaN: true }),
        (zoom, factor, ax, ay) => {
          const before: View = { zoom, panX: 33, panY: -7 };
          const after = zoomAt(before, { x: ax, y: ay }, factor);
          expect(after.zoom).toBeCloseTo(zoom * factor, 8);
          const client = { x: BOX.left + ax, y: BOX.top + ay };
          const p0 = screenToImage(before, BOX, client);
          const p1 = screenToImage(after, BOX, client);
          expect(p1.x).toBeCloseTo(p0.x, 6);
          expect(p1.y).toBeCloseTo(p0.y, 6);
        },
      ),
    );
    expect(zoomAt({ zoom: 50, panX: 0, panY: 0 }, { x: 0, y: 0 }, 10).zoom).toBe(MAX_ZOOM);
    expect(wheelFactor(-100, 0)).toBeGreaterThan(1);
    expect(wheelFactor(100, 0)).toBeLessThan(1);
    expect(wheelFactor(3, 1)).toBeCloseTo(wheelFactor(99, 0), 10);
  });

  it('pinches: spreading the fingers zooms by their distance ratio and keeps the midpoint content', () => {
    const start: View = { zoom: 1, panX: 0, panY: 0 };
    const v = pinchView(
      start,
      [
        { x: 100, y: 100 },
        { x: 200, y: 100 },
      ],
      [
        { x: 50, y: 100 },
        { x: 250, y: 100 },
      ],
    );
    expect(v.zoom).toBe(2);
    // Image point (150, 100) was under the midpoint and still is.
    expect(v.panX + 150 * v.zoom).toBe(150);
    expect(v.panY + 100 * v.zoom).toBe(100);
    // Moving both fingers by (30, −20) without spreading only pans.
    const moved = pinchView(
      start,
      [
        { x: 0, y: 0 },
        { x: 10, y: 0 },
      ],
      [
        { x: 30, y: -20 },
        { x: 40, y: -20 },
      ],
    );
    expect(moved).toEqual({ zoom: 1, panX: 30, panY: -20 });
  });

  it('snaps image sides to the generation grid', () => {
    expect(snapToGrid(500)).toBe(504);
    expect(snapToGrid(123)).toBe(120);
    expect(snapToGrid(20)).toBe(64);
    expect(snapToGrid(5000)).toBe(2048);
    expect(snapToGrid(768)).toBe(768);
  });
});

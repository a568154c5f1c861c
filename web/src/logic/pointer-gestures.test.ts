import { describe, expect, it } from 'vitest';
import { GestureTracker, type PointerSample } from './pointer-gestures.js';

const touch = (id: number, x: number, y: number): PointerSample => ({ id, type: 'touch', button: 0, x, y, pressure: 0.5 });
const mouse = (x: number, y: number, button = 0): PointerSample => ({ id: 1, type: 'mouse', button, x, y, pressure: 0.5 });
const VIEW = { zoom: 1, panX: 0, panY: 0 };

describe('pointer gestures', () => {
  it('one finger paints: start, moves, end', () => {
    const g = new GestureTracker(VIEW);
    expect(g.down(touch(5, 10, 10), false).map((a) => a.kind)).toEqual(['stroke-start']);
    expect(g.move(touch(5, 20, 10))).toEqual([{ kind: 'stroke-move', point: { x: 20, y: 10 }, pointerType: 'touch', pressure: 0.5 }]);
    expect(g.up(5)).toEqual([{ kind: 'stroke-end' }]);
    expect(g.state).toBe('idle');
  });

  it('a second finger cancels the stroke and pinches; the leftover finger never paints', () => {
    const g = new GestureTracker(VIEW);
    g.down(touch(1, 100, 100), false);
    g.move(touch(1, 102, 100));
    expect(g.down(touch(2, 200, 100), false)).toEqual([{ kind: 'stroke-cancel' }]);
    expect(g.state).toBe('pinch');
    const acts = g.move(touch(2, 298, 100));
    expect(acts).toHaveLength(1);
    expect(acts[0]!.kind).toBe('view');
    expect(g.view.zoom).toBeCloseTo(2, 10);
    expect(g.up(2)).toEqual([]);
    expect(g.move(touch(1, 150, 150))).toEqual([]);
    expect(g.state).toBe('blocked');
    g.up(1);
    expect(g.state).toBe('idle');
    expect(g.down(touch(3, 5, 5), false)[0]!.kind).toBe('stroke-start');
  });

  it("a pen's eraser end (button 5) starts an erasing stroke; its tip paints; a mouse button 5 does nothing", () => {
    const g = new GestureTracker(VIEW);
    const pen = (button: number): PointerSample => ({ id: 9, type: 'pen', button, x: 4, y: 4, pressure: 0.7 });
    expect(g.down(pen(5), false)).toEqual([{ kind: 'stroke-start', point: { x: 4, y: 4 }, pointerType: 'pen', pressure: 0.7, erase: true }]);
    g.up(9);
    expect(g.down(pen(0), false)).toEqual([{ kind: 'stroke-start', point: { x: 4, y: 4 }, pointerType: 'pen', pressure: 0.7, erase: false }]);
    g.up(9);
    expect(g.down(mouse(4, 4, 5), false)).toEqual([]);
  });

  it('the middle button, or space + primary, pans; other buttons do nothing', () => {
    const g = new GestureTracker(VIEW);
    expect(g.down(mouse(10, 10, 1), false)).toEqual([]);
    expect(g.move(mouse(25, 5))).toEqual([{ kind: 'view', view: { zoom: 1, panX: 15, panY: -5 } }]);
    g.up(1);
    g.down(mouse(0, 0), true);
    expect(g.state).toBe('pan');
    g.up(1);
    expect(g.down(mouse(0, 0, 2), false)).toEqual([]);
    expect(g.state).toBe('idle');
  });

  it('pointercancel ends a stroke like pointerup, and unknown pointers are ignored', () => {
    const g = new GestureTracker(VIEW);
    g.down({ id: 9, type: 'pen', button: 0, x: 0, y: 0, pressure: 0.3 }, false);
    expect(g.move(touch(4, 1, 1))).toEqual([]);
    expect(g.up(4)).toEqual([]);
    expect(g.up(9)).toEqual([{ kind: 'stroke-end' }]);
    expect(g.up(9)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { createMask, stampSegment, type Mask } from './stroke-raster.js';
import { diffPatch, patchBytes, readRect, UndoHistory, writeRect, type MaskPatch } from './undo-history.js';

function clone(m: Mask): Mask {
  return { width: m.width, height: m.height, data: new Uint8ClampedArray(m.data) };
}

/** What the editor does: paint into `live`, then record the dirty rect against `committed`. */
function stroke(live: Mask, committed: Mask, history: UndoHistory<MaskPatch>, y: number, mode: 'paint' | 'erase' = 'paint'): void {
  const rect = stampSegment(live, { x: 2, y, r: 3 }, { x: 28, y, r: 3 }, { mode, softness: 0.5 })!;
  const patch = diffPatch(committed, live, rect);
  if (patch) {
    writeRect(committed, rect, patch.after);
    history.push(patch);
  }
}

describe('undo history', () => {
  it('undo restores the mask exactly, redo re-applies, one entry per stroke', () => {
    const live = createMask(32, 32);
    const committed = clone(live);
    const history = new UndoHistory<MaskPatch>(patchBytes);
    const states = [new Uint8ClampedArray(live.data)];
    for (const [y, mode] of [[8, 'paint'], [12, 'paint'], [10, 'erase']] as const) {
      stroke(live, committed, history, y, mode);
      states.push(new Uint8ClampedArray(live.data));
    }
    expect(history.undoDepth).toBe(3);
    for (let i = 3; i > 0; i--) {
      const p = history.undo()!;
      writeRect(live, p.rect, p.before);
      expect([...live.data]).toEqual([...states[i - 1]!]);
    }
    expect(history.canUndo).toBe(false);
    for (let i = 1; i <= 3; i++) {
      const p = history.redo()!;
      writeRect(live, p.rect, p.after);
      expect([...live.data]).toEqual([...states[i]!]);
    }
    expect(history.canRedo).toBe(false);
  });

  it('a change that changed nothing makes no entry', () => {
    const live = createMask(16, 16);
    const rect = stampSegment(live, { x: 4, y: 4, r: 2 }, { x: 8, y: 4, r: 2 }, { mode: 'erase', softness: 0 })!;
    expect(diffPatch(clone(live), live, rect)).toBeNull();
  });

  it('a new change drops the redo branch', () => {
    const h = new UndoHistory<number>((n) => n, 100);
    h.push(10);
    h.push(20);
    expect(h.undo()).toBe(20);
    h.push(5);
    expect(h.canRedo).toBe(false);
    expect(h.bytes).toBe(15);
  });

  it('stays within its byte budget by dropping the oldest entries', () => {
    const h = new UndoHistory<{ id: number; size: number }>((e) => e.size, 1000);
    for (let id = 0; id < 50; id++) {
      h.push({ id, size: 90 });
      expect(h.bytes).toBeLessThanOrEqual(1000);
    }
    expect(h.undoDepth).toBe(11);
    const ids: number[] = [];
    for (let e = h.undo(); e; e = h.undo()) ids.push(e.id);
    expect(ids).toEqual([49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39]);
    // Redo entries count too, and the newest entry stays even when it alone is over budget.
    h.push({ id: 99, size: 5000 });
    expect(h.undoDepth).toBe(1);
    expect(h.canRedo).toBe(false);
    expect(h.bytes).toBe(5000);
  });

  it('keeps memory bounded for real patches of a large mask', () => {
    const live = createMask(1024, 1024);
    const committed = clone(live);
    const budget = 2 * 1024 * 1024;
    const history = new UndoHistory<MaskPatch>(patchBytes, budget);
    for (let i = 0; i < 12; i++) {
      const rect = { x: 0, y: 0, w: 1024, h: 1024 };
      live.data.fill(i + 1);
      const p = diffPatch(committed, live, rect)!;
      writeRect(committed, rect, p.after);
      history.push(p);
      expect(history.bytes).toBeLessThanOrEqual(Math.max(budget, patchBytes(p)));
    }
    expect(history.undoDepth).toBe(1);
    expect(readRect(committed, { x: 5, y: 5, w: 2, h: 1 })).toEqual(new Uint8ClampedArray([12, 12]));
  });
});

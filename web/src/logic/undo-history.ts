// Undo and redo for the inpaint mask, bounded by bytes so a phone tab editing a large image never
// runs out of memory. Each entry is a patch: the dirty rectangle of one stroke (or clear/invert)
// with its pixels before and after. The editor keeps a "committed" copy of the mask (the state
// after the last entry), so a finished stroke's "before" is read from it without snapshotting the
// whole mask at every pointerdown. When undo + redo entries exceed the budget the oldest undo
// entries are dropped first; the newest entry is kept even when it alone is larger.
import type { Mask, Rect } from './stroke-raster.js';

export interface MaskPatch {
  rect: Rect;
  before: Uint8ClampedArray;
  after: Uint8ClampedArray;
}

/** 32 MB: eight full-mask strokes of a 2048² image, or hundreds of brush strokes. */
export const DEFAULT_HISTORY_BYTES = 32 * 1024 * 1024;

export function patchBytes(p: MaskPatch): number {
  return p.before.byteLength + p.after.byteLength;
}

/** Copies the rectangle out of a mask buffer. */
export function readRect(mask: Mask, rect: Rect): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rect.w * rect.h);
  for (let row = 0; row < rect.h; row++) {
    const start = (rect.y + row) * mask.width + rect.x;
    out.set(mask.data.subarray(start, start + rect.w), row * rect.w);
  }
  return out;
}

/** Writes pixels (as read by readRect) back into the rectangle of a mask buffer. */
export function writeRect(mask: Mask, rect: Rect, pixels: Uint8ClampedArray): void {
  for (let row = 0; row < rect.h; row++) {
    mask.data.set(pixels.subarray(row * rect.w, (row + 1) * rect.w), (rect.y + row) * mask.width + rect.x);
  }
}

/**
 * The patch from `committed` (before) to `live` (after) inside `rect`, or null when the rectangle
 * did not change (a tap outside the image, an eraser over nothing): those make no undo entry.
 */
export function diffPatch(committed: Mask, live: Mask, rect: Rect): MaskPatch | null {
  const before = readRect(committed, rect);
  const after = readRect(live, rect);
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) return { rect, before, after };
  return null;
}

export class UndoHistory<T> {
  private readonly undoStack: T[] = [];
  private readonly redoStack: T[] = [];
  private total = 0;

  constructor(
    private readonly sizeOf: (entry: T) => number,
    private readonly budget = DEFAULT_HISTORY_BYTES,
  ) {}

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Bytes held by undo and redo entries together. */
  get bytes(): number {
    return this.total;
  }

  get undoDepth(): number {
    return this.undoStack.length;
  }

  /** Records a new change: the redo branch is gone, and old entries go while over budget. */
  push(entry: T): void {
    for (const e of this.redoStack) this.total -= this.sizeOf(e);
    this.redoStack.length = 0;
    this.undoStack.push(entry);
    this.total += this.sizeOf(entry);
    while (this.total > this.budget && this.undoStack.length > 1) this.total -= this.sizeOf(this.undoStack.shift()!);
  }

  /** The entry to revert (its `before` is applied by the caller), now redoable. */
  undo(): T | undefined {
    const e = this.undoStack.pop();
    if (e !== undefined) this.redoStack.push(e);
    return e;
  }

  /** The entry to re-apply (its `after`), now undoable again. */
  redo(): T | undefined {
    const e = this.redoStack.pop();
    if (e !== undefined) this.undoStack.push(e);
    return e;
  }

  clear(): void {
    this.undoStack.length = 0;
    this.redoStack.length = 0;
    this.total = 0;
  }
}

// What the inpaint canvas does with each pointer, as a small state machine fed with Pointer Events
// (pointers kept in a Map by pointerId): one finger, the mouse's primary button or a pen paints;
// the middle button, or the primary button while space is held, pans; two touch pointers pinch and
// pan and never paint. A second finger landing mid-stroke cancels that stroke (the first finger
// was the start of a pinch, not a line); after a pinch the remaining finger does nothing until
// every finger is up. A pen's eraser end (button 5) erases whatever tool is selected, as in
// drawing apps. pointercancel ends a stroke like pointerup: what was painted stays, as one
// undo entry. Pure: the component turns the returned actions into painting and redraws.
import { panBy, pinchView, type Point, type View } from './canvas-geometry.js';

export interface PointerSample {
  id: number;
  /** PointerEvent.pointerType: 'mouse' | 'pen' | 'touch'. */
  type: string;
  /** PointerEvent.button of a pointerdown (0 primary, 1 middle, 5 a pen's eraser end). */
  button: number;
  /** CSS offset inside the canvas element. */
  x: number;
  y: number;
  pressure: number;
}

export type GestureAction =
  /** `erase`: the stroke erases whatever the selected tool (a pen's eraser end). */
  | { kind: 'stroke-start'; point: Point; pointerType: string; pressure: number; erase: boolean }
  | { kind: 'stroke-move'; point: Point; pointerType: string; pressure: number }
  | { kind: 'stroke-end' }
  /** The stroke in progress must be undone without an undo entry. */
  | { kind: 'stroke-cancel' }
  | { kind: 'view'; view: View };

type Mode =
  | { kind: 'idle' }
  | { kind: 'stroke'; id: number }
  | { kind: 'pan'; id: number; last: Point }
  | { kind: 'pinch'; ids: [number, number]; from: [Point, Point]; start: View }
  /** Touches left over after a pinch: ignored until all are lifted. */
  | { kind: 'blocked' };

const PRIMARY = 0;
const MIDDLE = 1;
const PEN_ERASER = 5;

export class GestureTracker {
  private readonly pointers = new Map<number, PointerSample>();
  private mode: Mode = { kind: 'idle' };

  constructor(public view: View) {}

  get state(): Mode['kind'] {
    return this.mode.kind;
  }

  get painting(): boolean {
    return this.mode.kind === 'stroke';
  }

  down(p: PointerSample, spaceHeld: boolean): GestureAction[] {
    this.pointers.set(p.id, p);
    if (p.type === 'touch') {
      const touches = [...this.pointers.values()].filter((q) => q.type === 'touch');
      if (touches.length >= 2 && (this.mode.kind === 'idle' || this.mode.kind === 'blocked' || this.isTouchMode())) {
        const actions: GestureAction[] = this.mode.kind === 'stroke' ? [{ kind: 'stroke-cancel' }] : [];
        const [a, b] = touches as [PointerSample, PointerSample];
        this.mode = { kind: 'pinch', ids: [a.id, b.id], from: [pt(a), pt(b)], start: this.view };
        return actions;
      }
      if (touches.length === 1 && this.mode.kind === 'idle') return this.startStroke(p);
      return [];
    }
    if (this.mode.kind !== 'idle') return [];
    if (p.button === MIDDLE || (p.button === PRIMARY && spaceHeld)) {
      this.mode = { kind: 'pan', id: p.id, last: pt(p) };
      return [];
    }
    if (p.type === 'pen' && p.button === PEN_ERASER) return this.startStroke(p, true);
    return p.button === PRIMARY ? this.startStroke(p) : [];
  }

  move(p: PointerSample): GestureAction[] {
    if (!this.pointers.has(p.id)) return [];
    this.pointers.set(p.id, p);
    const m = this.mode;
    if (m.kind === 'stroke' && m.id === p.id) return [{ kind: 'stroke-move', point: pt(p), pointerType: p.type, pressure: p.pressure }];
    if (m.kind === 'pan' && m.id === p.id) {
      this.view = panBy(this.view, p.x - m.last.x, p.y - m.last.y);
      m.last = pt(p);
      return [{ kind: 'view', view: this.view }];
    }
    if (m.kind === 'pinch' && m.ids.includes(p.id)) {
      const a = this.pointers.get(m.ids[0])!;
      const b = this.pointers.get(m.ids[1])!;
      this.view = pinchView(m.start, m.from, [pt(a), pt(b)]);
      return [{ kind: 'view', view: this.view }];
    }
    return [];
  }

  /** pointerup and pointercancel (a cancelled stroke keeps what was painted). */
  up(id: number): GestureAction[] {
    if (!this.pointers.delete(id)) return [];
    const m = this.mode;
    const anyTouch = [...this.pointers.values()].some((q) => q.type === 'touch');
    if (m.kind === 'stroke' && m.id === id) {
      this.mode = { kind: 'idle' };
      return [{ kind: 'stroke-end' }];
    }
    if (m.kind === 'pan' && m.id === id) this.mode = { kind: 'idle' };
    else if (m.kind === 'pinch' && m.ids.includes(id)) this.mode = anyTouch ? { kind: 'blocked' } : { kind: 'idle' };
    else if (m.kind === 'blocked' && !anyTouch) this.mode = { kind: 'idle' };
    return [];
  }

  /** Forgets every pointer (the canvas was hidden or lost capture): a stroke in progress ends. */
  reset(): GestureAction[] {
    const wasStroke = this.mode.kind === 'stroke';
    this.pointers.clear();
    this.mode = { kind: 'idle' };
    return wasStroke ? [{ kind: 'stroke-end' }] : [];
  }

  private isTouchMode(): boolean {
    const m = this.mode;
    if (m.kind === 'stroke' || m.kind === 'pan') return this.pointers.get(m.id)?.type === 'touch';
    return false;
  }

  private startStroke(p: PointerSample, erase = false): GestureAction[] {
    this.mode = { kind: 'stroke', id: p.id };
    return [{ kind: 'stroke-start', point: pt(p), pointerType: p.type, pressure: p.pressure, erase }];
  }
}

function pt(p: PointerSample): Point {
  return { x: p.x, y: p.y };
}

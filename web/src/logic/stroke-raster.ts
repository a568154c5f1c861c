// Rasterising brush and eraser strokes into the inpaint mask: a single-channel coverage buffer at
// the image's own resolution (255 = repaint, A1111's white). A stroke is a chain of segments, each
// a capsule whose radius follows the pen pressure; a pixel is covered when its centre lies within
// the radius (hard brush) or by a linear falloff over the outer `softness` part of it (soft edge).
// Within one stroke coverage combines with max (paint) or min (erase), so segment joints and slow
// strokes never darken or thin the line. Pure and synchronous: the component calls it per pointer
// event and uploads only the returned dirty rectangle.

export interface Mask {
  width: number;
  height: number;
  /** width × height coverage, row-major, 0 = keep, 255 = repaint. */
  data: Uint8ClampedArray;
}

/** An integer pixel rectangle [x, x + w) × [y, y + h). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A point of a stroke in continuous image coordinates with its brush radius in image pixels. */
export interface StrokePoint {
  x: number;
  y: number;
  r: number;
}

export type BrushMode = 'paint' | 'erase';

export interface BrushOptions {
  mode: BrushMode;
  /** 0 = hard edge; 1 = coverage falls off linearly from the centre line to the radius. */
  softness: number;
}

/** A pen touching lightly still paints a visible line, a tenth of the full width. */
export const MIN_PRESSURE = 0.1;
/** The smallest radius: a one-pixel brush still covers the pixel it is on. */
export const MIN_RADIUS = 0.5;

/** The brush size slider's range, in image pixels. */
export const MIN_BRUSH = 1;
export const MAX_BRUSH = 512;

/** `[` and `]`: about 15 % per press, at least one pixel, within the slider's range. */
export function stepBrushSize(size: number, direction: -1 | 1): number {
  const step = Math.max(1, Math.round(size * 0.15));
  return Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, size + direction * step));
}

export function createMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8ClampedArray(width * height) };
}

/**
 * Brush radius for a pointer: pens scale the size by their pressure; mouse and touch report a
 * constant (0.5 while pressed) that says nothing, so they always get the full size.
 */
export function radiusFor(size: number, pointerType: string, pressure: number): number {
  const scale = pointerType === 'pen' ? Math.min(1, Math.max(MIN_PRESSURE, pressure || 0)) : 1;
  return Math.max(MIN_RADIUS, (size / 2) * scale);
}

export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/** The rectangle clipped to the mask, or null when nothing of it is inside. */
export function clipRect(r: Rect, width: number, height: number): Rect | null {
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(width, r.x + r.w);
  const y1 = Math.min(height, r.y + r.h);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

function coverage(d: number, r: number, softness: number): number {
  if (d > r) return 0;
  const inner = r * (1 - Math.min(1, Math.max(0, softness)));
  if (d <= inner) return 1;
  return (r - d) / (r - inner);
}

/**
 * Paints (or erases) the capsule from `a` to `b` into the mask; returns the changed area's
 * bounding rectangle (null when the segment lies outside the image). A dot is a segment with
 * a = b.
 *
 * @example stampSegment(mask, { x: 10, y: 20, r: 4 }, { x: 50, y: 20, r: 4 }, { mode: 'paint', softness: 0 })
 */
export function stampSegment(mask: Mask, a: StrokePoint, b: StrokePoint, opts: BrushOptions): Rect | null {
  const { width, height, data } = mask;
  const rMax = Math.max(a.r, b.r);
  const x0 = Math.floor(Math.min(a.x, b.x) - rMax);
  const y0 = Math.floor(Math.min(a.y, b.y) - rMax);
  const x1 = Math.ceil(Math.max(a.x, b.x) + rMax);
  const y1 = Math.ceil(Math.max(a.y, b.y) + rMax);
  const rect = clipRect({ x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 }, width, height);
  if (!rect) return null;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const erase = opts.mode === 'erase';
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    const cy = y + 0.5;
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      const cx = x + 0.5;
      const t = len2 > 0 ? Math.min(1, Math.max(0, ((cx - a.x) * dx + (cy - a.y) * dy) / len2)) : 0;
      const d = Math.hypot(cx - (a.x + t * dx), cy - (a.y + t * dy));
      const cov = coverage(d, a.r + (b.r - a.r) * t, opts.softness);
      if (cov <= 0) continue;
      const v = Math.round(cov * 255);
      const i = y * width + x;
      if (erase) {
        if (255 - v < data[i]!) data[i] = 255 - v;
      } else if (v > data[i]!) {
        data[i] = v;
      }
    }
  }
  return rect;
}

/** Repaint ↔ keep everywhere (the "invert" button); returns the whole image as dirty. */
export function invertMask(mask: Mask): Rect {
  const d = mask.data;
  for (let i = 0; i < d.length; i++) d[i] = 255 - d[i]!;
  return { x: 0, y: 0, w: mask.width, h: mask.height };
}

export function clearMask(mask: Mask): Rect {
  mask.data.fill(0);
  return { x: 0, y: 0, w: mask.width, h: mask.height };
}

/** Bounding rectangle of the painted pixels (coverage > 0), or null for an empty mask. */
export function maskBounds(mask: Mask): Rect | null {
  const { width, height, data } = mask;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x]! === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

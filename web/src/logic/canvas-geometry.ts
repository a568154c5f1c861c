// The inpaint editor's view geometry: how image pixels map to the canvas element's CSS pixels and
// to its device-pixel backing store under zoom and pan, wheel zoom around the cursor, two-finger
// pinch, and "fit to screen". Pure: the component feeds it client coordinates and the canvas rect.
//
// Convention: a view { zoom, panX, panY } puts image pixel (ix, iy) at CSS offset
// (panX + ix·zoom, panY + iy·zoom) from the canvas element's top-left corner. Image coordinates are
// continuous: pixel (3, 5) covers [3, 4) × [5, 6) and its centre is (3.5, 5.5).

export interface View {
  /** CSS pixels per image pixel. */
  zoom: number;
  /** CSS offset of the image's top-left corner inside the canvas element. */
  panX: number;
  panY: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The canvas element's box in client coordinates (a DOMRect fits). */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Below this a 4096-pixel image is ~40 px wide; above it one image pixel fills a phone screen. */
export const MIN_ZOOM = 0.01;
export const MAX_ZOOM = 64;
/** Room left around the image by "fit to screen", in CSS pixels, so the edges can be painted. */
export const FIT_MARGIN = 12;

export function clampZoom(zoom: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/**
 * Client (event) coordinates → continuous image coordinates.
 *
 * @example screenToImage({ zoom: 2, panX: 10, panY: 0 }, { left: 0, top: 0, width: 300, height: 300 }, { x: 30, y: 8 }) // { x: 10, y: 4 }
 */
export function screenToImage(view: View, box: Box, client: Point): Point {
  return { x: (client.x - box.left - view.panX) / view.zoom, y: (client.y - box.top - view.panY) / view.zoom };
}

/** Continuous image coordinates → client coordinates (the inverse of screenToImage). */
export function imageToScreen(view: View, box: Box, image: Point): Point {
  return { x: box.left + view.panX + image.x * view.zoom, y: box.top + view.panY + image.y * view.zoom };
}

/** Device pixels of the backing store for a CSS size (what `canvas.width/height` must be). */
export function backingSize(cssWidth: number, cssHeight: number, dpr: number): { width: number; height: number } {
  return { width: Math.max(1, Math.round(cssWidth * dpr)), height: Math.max(1, Math.round(cssHeight * dpr)) };
}

/**
 * The 2D context transform (a, b, c, d, e, f) that draws image pixels into the device-pixel
 * backing store: CSS scale and offset multiplied by the device pixel ratio.
 */
export function drawTransform(view: View, dpr: number): [number, number, number, number, number, number] {
  return [view.zoom * dpr, 0, 0, view.zoom * dpr, view.panX * dpr, view.panY * dpr];
}

/** A point of the backing store (device pixels from the canvas' corner) → image coordinates. */
export function deviceToImage(view: View, dpr: number, device: Point): Point {
  return { x: (device.x / dpr - view.panX) / view.zoom, y: (device.y / dpr - view.panY) / view.zoom };
}

/** The whole image centred in a viewport of CSS size w × h, as large as fits with the margin. */
export function fitView(imageWidth: number, imageHeight: number, viewportWidth: number, viewportHeight: number, margin = FIT_MARGIN): View {
  const availW = Math.max(1, viewportWidth - 2 * margin);
  const availH = Math.max(1, viewportHeight - 2 * margin);
  const zoom = clampZoom(Math.min(availW / imageWidth, availH / imageHeight));
  return { zoom, panX: (viewportWidth - imageWidth * zoom) / 2, panY: (viewportHeight - imageHeight * zoom) / 2 };
}

/**
 * Zooms by `factor` keeping the image point under `anchor` (CSS offset inside the canvas) fixed:
 * what the wheel does around the cursor.
 */
export function zoomAt(view: View, anchor: Point, factor: number): View {
  const zoom = clampZoom(view.zoom * factor);
  const k = zoom / view.zoom;
  return { zoom, panX: anchor.x - (anchor.x - view.panX) * k, panY: anchor.y - (anchor.y - view.panY) * k };
}

/** The wheel's zoom factor: one notch (deltaY 100, line mode ×~33) is about ×1.16. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 33 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-pixels * 0.0015);
}

export function panBy(view: View, dx: number, dy: number): View {
  return { zoom: view.zoom, panX: view.panX + dx, panY: view.panY + dy };
}

/**
 * Two-finger pinch and pan: the view that keeps the image point that was under the two fingers'
 * midpoint at the start under their midpoint now, scaled by the change of their distance. Both
 * pairs are CSS offsets inside the canvas; `start` is the view when the gesture began.
 */
export function pinchView(start: View, from: readonly [Point, Point], to: readonly [Point, Point]): View {
  const d0 = Math.hypot(from[1].x - from[0].x, from[1].y - from[0].y);
  const d1 = Math.hypot(to[1].x - to[0].x, to[1].y - to[0].y);
  const zoom = clampZoom(d0 > 0 ? (start.zoom * d1) / d0 : start.zoom);
  const m0 = { x: (from[0].x + from[1].x) / 2, y: (from[0].y + from[1].y) / 2 };
  const m1 = { x: (to[0].x + to[1].x) / 2, y: (to[0].y + to[1].y) / 2 };
  const ix = (m0.x - start.panX) / start.zoom;
  const iy = (m0.y - start.panY) / start.zoom;
  return { zoom, panX: m1.x - ix * zoom, panY: m1.y - iy * zoom };
}

/** Snaps a side to the generation grid: a multiple of 8 within [min, max] (nearest, ties up). */
export function snapToGrid(side: number, min = 64, max = 2048, step = 8): number {
  return Math.min(max, Math.max(min, Math.round(side / step) * step));
}

// <easel-mask-editor>: the inpaint canvas. Shows the source image with the mask as a coloured
// overlay (or the original alone, or the mask alone), and paints the mask with brush or eraser
// from mouse, pen (with pressure) or one finger; pans with space/middle button or two fingers,
// zooms with the wheel around the cursor or by pinching. The mask is a coverage buffer at the
// image's natural resolution (logic/stroke-raster.ts), whatever the screen; undo keeps one patch
// per stroke within a byte budget (logic/undo-history.ts). Two layers, as in Excalidraw: the
// offscreen overlay canvas is updated only in each stroke's dirty rectangle, the visible canvas is
// recomposed at most once per animation frame.
//
// Public surface: properties `tool` ('brush' | 'eraser'), `size` (brush diameter in image
// pixels), `softness` (0..1), `overlayColor` ('#rrggbb'), `overlayOpacity` (0..1), `viewMode`
// ('both' | 'original' | 'mask'), `spaceHeld`; methods `setImage(image, width, height, keepMask)`,
// `undo()`, `redo()`, `clear()`, `invert()`, `fit()`, `zoomBy(factor)`, `exportMask()` (PNG data
// URL, white = inpaint), getters `view`, `imageWidth`, `imageHeight`, `canUndo`, `canRedo`,
// `maskedPixels`. Events: `mask-change` (after every committed change, undo or redo),
// `view-change` (zoom or pan).
import { LitElement, css, html } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { backingSize, drawTransform, fitView, screenToImage, wheelFactor, zoomAt, type Point, type View } from '../../logic/canvas-geometry.js';
import { countMasked, maskToRgba, overlayRgba, parseHexColor, type Rgb } from '../../logic/mask-export.js';
import { GestureTracker, type GestureAction, type PointerSample } from '../../logic/pointer-gestures.js';
import { clearMask, createMask, invertMask, radiusFor, stampSegment, unionRect, type Mask, type Rect, type StrokePoint } from '../../logic/stroke-raster.js';
import { diffPatch, patchBytes, readRect, UndoHistory, writeRect, type MaskPatch } from '../../logic/undo-history.js';

export type MaskTool = 'brush' | 'eraser';
export type MaskViewMode = 'both' | 'original' | 'mask';
export type EditorImage = HTMLImageElement | ImageBitmap | HTMLCanvasElement;

const WHITE: Rgb = [255, 255, 255];
/** Above this zoom image pixels are drawn as crisp squares so the mask edge can be judged exactly. */
const PIXELATED_ZOOM = 2;

async function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error('cannot read the mask'));
    r.readAsDataURL(blob);
  });
}

@customElement('easel-mask-editor')
export class EaselMaskEditor extends LitElement {
  static override styles = css`
    :host {
      display: block;
      position: relative;
    }
    .stage {
      position: relative;
      width: 100%;
      /* As tall as the image needs at full width, within a screenful. */
      aspect-ratio: var(--ratio, 1);
      max-height: min(62dvh, 760px);
      min-height: 240px;
      overflow: hidden;
      border-radius: var(--radius);
      border: 1px solid var(--border);
      background: var(--surface-2);
      /* The canvas owns every touch: no scrolling, no double-tap zoom, no browser pinch. */
      touch-action: none;
      user-select: none;
      -webkit-user-select: none;
      -webkit-touch-callout: none;
    }
    canvas {
      display: block;
      width: 100%;
      height: 100%;
      touch-action: none;
      cursor: crosshair;
    }
    .stage.panning canvas {
      cursor: grab;
    }
  `;

  @property() tool: MaskTool = 'brush';
  @property({ type: Number }) size = 32;
  @property({ type: Number }) softness = 0;
  @property() overlayColor = '#ff3030';
  @property({ type: Number }) overlayOpacity = 0.5;
  @property() viewMode: MaskViewMode = 'both';
  @property({ type: Boolean }) spaceHeld = false;

  @query('canvas') private canvas!: HTMLCanvasElement;
  @query('.stage') private stage!: HTMLDivElement;

  private image: EditorImage | null = null;
  private mask: Mask = createMask(1, 1);
  /** The mask as of the last undo entry: the "before" of the stroke in progress. */
  private committed: Mask = createMask(1, 1);
  private readonly overlay = document.createElement('canvas');
  private readonly history = new UndoHistory<MaskPatch>(patchBytes);
  private tracker = new GestureTracker({ zoom: 1, panX: 0, panY: 0 });
  private userMovedView = false;
  private cssWidth = 1;
  private cssHeight = 1;
  private lastPoint: StrokePoint | null = null;
  private strokeRect: Rect | null = null;
  /** Fixed at stroke start: the eraser tool, or a pen's eraser end whatever the tool. */
  private strokeErases = false;
  private hover: Point | null = null;
  private frame = 0;
  private resizeObserver: ResizeObserver | null = null;

  get view(): View {
    return this.tracker.view;
  }

  get imageWidth(): number {
    return this.image ? this.mask.width : 0;
  }

  get imageHeight(): number {
    return this.image ? this.mask.height : 0;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  /** Pixels the server will repaint. */
  get maskedPixels(): number {
    return countMasked(this.mask);
  }

  override firstUpdated(): void {
    this.resizeObserver = new ResizeObserver(() => this.onResize());
    this.resizeObserver.observe(this.stage);
    this.canvas.addEventListener('wheel', this.onWheel, { passive: false });
    this.onResize();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('overlayColor') || changed.has('viewMode')) this.refreshOverlay({ x: 0, y: 0, w: this.mask.width, h: this.mask.height });
    this.scheduleDraw();
  }

  /**
   * Shows a new source image. The mask and its undo history are kept when `keepMask` is set and
   * the size is unchanged ("continue editing" on a result); otherwise they start empty.
   */
  setImage(image: EditorImage, width: number, height: number, keepMask = false): void {
    this.image = image;
    this.stage.style.setProperty('--ratio', `${width} / ${height}`);
    if (!keepMask || width !== this.mask.width || height !== this.mask.height) {
      this.mask = createMask(width, height);
      this.committed = createMask(width, height);
      this.history.clear();
      this.overlay.width = width;
      this.overlay.height = height;
      this.refreshOverlay({ x: 0, y: 0, w: width, h: height });
    }
    this.fit();
    this.emit('mask-change');
  }

  fit(): void {
    this.measure();
    this.userMovedView = false;
    if (this.image) this.tracker.view = fitView(this.mask.width, this.mask.height, this.cssWidth, this.cssHeight);
    this.emit('view-change');
    this.scheduleDraw();
  }

  /** Zooms around the middle of the canvas (the toolbar's + and − buttons). */
  zoomBy(factor: number): void {
    this.setView(zoomAt(this.view, { x: this.cssWidth / 2, y: this.cssHeight / 2 }, factor));
  }

  undo(): void {
    if (this.tracker.painting) return;
    const p = this.history.undo();
    if (p) this.applyPatch(p.rect, p.before);
  }

  redo(): void {
    if (this.tracker.painting) return;
    const p = this.history.redo();
    if (p) this.applyPatch(p.rect, p.after);
  }

  clear(): void {
    this.wholeMaskChange(clearMask);
  }

  invert(): void {
    this.wholeMaskChange(invertMask);
  }

  /** The mask as a PNG data URL at the image's resolution: white = inpaint, black = keep. */
  async exportMask(): Promise<string> {
    const c = document.createElement('canvas');
    c.width = this.mask.width;
    c.height = this.mask.height;
    c.getContext('2d')!.putImageData(new ImageData(maskToRgba(this.mask) as Uint8ClampedArray<ArrayBuffer>, this.mask.width, this.mask.height), 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => c.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the browser could not encode the mask as PNG');
    return blobToDataUrl(blob);
  }

  private emit(type: 'mask-change' | 'view-change'): void {
    this.dispatchEvent(new Event(type));
  }

  private wholeMaskChange(op: (m: Mask) => Rect): void {
    if (this.tracker.painting || !this.image) return;
    const rect = op(this.mask);
    const patch = diffPatch(this.committed, this.mask, rect);
    if (patch) {
      writeRect(this.committed, rect, patch.after);
      this.history.push(patch);
    }
    this.refreshOverlay(rect);
    this.emit('mask-change');
  }

  private applyPatch(rect: Rect, pixels: Uint8ClampedArray): void {
    writeRect(this.mask, rect, pixels);
    writeRect(this.committed, rect, pixels);
    this.refreshOverlay(rect);
    this.emit('mask-change');
  }

  /** Re-colours the overlay inside `rect` from the mask (white in mask view, else the chosen colour). */
  private refreshOverlay(rect: Rect): void {
    if (rect.w <= 0 || rect.h <= 0 || this.overlay.width !== this.mask.width) return;
    const color = this.viewMode === 'mask' ? WHITE : parseHexColor(this.overlayColor);
    const px = overlayRgba(this.mask, rect, color) as Uint8ClampedArray<ArrayBuffer>;
    this.overlay.getContext('2d')!.putImageData(new ImageData(px, rect.w, rect.h), rect.x, rect.y);
    this.scheduleDraw();
  }

  private setView(view: View): void {
    this.tracker.view = view;
    this.userMovedView = true;
    this.emit('view-change');
    this.scheduleDraw();
  }

  /** Reads the canvas' CSS size and sizes the backing store to it in device pixels. */
  private measure(): void {
    if (!this.canvas) return;
    // The canvas, not the stage: the stage's box includes its border.
    const r = this.canvas.getBoundingClientRect();
    this.cssWidth = Math.max(1, r.width);
    this.cssHeight = Math.max(1, r.height);
    const { width, height } = backingSize(this.cssWidth, this.cssHeight, window.devicePixelRatio || 1);
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
  }

  private onResize(): void {
    this.measure();
    // A rotated phone or resized window re-fits, unless the user chose a zoom themselves.
    if (!this.userMovedView) this.fit();
    this.scheduleDraw();
  }

  private scheduleDraw(): void {
    if (this.frame || !this.canvas) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.image) return;
    const view = this.view;
    const { width: w, height: h } = this.mask;
    ctx.setTransform(...drawTransform(view, dpr));
    ctx.imageSmoothingEnabled = view.zoom < PIXELATED_ZOOM;
    if (this.viewMode === 'mask') {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, w, h);
    } else {
      ctx.drawImage(this.image, 0, 0, w, h);
    }
    if (this.viewMode !== 'original') {
      ctx.globalAlpha = this.viewMode === 'mask' ? 1 : this.overlayOpacity;
      ctx.drawImage(this.overlay, 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.lineWidth = 1 / view.zoom;
    ctx.strokeStyle = 'rgb(128 128 128 / 0.8)';
    ctx.strokeRect(0, 0, w, h);
    if (this.hover && !this.spaceHeld) {
      // The brush outline where a mouse or pen hovers: size in image pixels, so it zooms too.
      ctx.beginPath();
      ctx.arc(this.hover.x, this.hover.y, Math.max(0.5, this.size / 2), 0, Math.PI * 2);
      ctx.strokeStyle = 'rgb(0 0 0 / 0.7)';
      ctx.lineWidth = 3 / view.zoom;
      ctx.stroke();
      ctx.strokeStyle = 'rgb(255 255 255 / 0.9)';
      ctx.lineWidth = 1.5 / view.zoom;
      ctx.stroke();
    }
  }

  private sample(e: PointerEvent): PointerSample {
    const r = this.canvas.getBoundingClientRect();
    return { id: e.pointerId, type: e.pointerType, button: e.button, x: e.clientX - r.left, y: e.clientY - r.top, pressure: e.pressure };
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (!this.image) return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // A pointer that is already gone cannot be captured; its up/cancel still arrives.
    }
    this.run(this.tracker.down(this.sample(e), this.spaceHeld));
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    if (!this.image) return;
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [e]) this.run(this.tracker.move(this.sample(ev)));
    if (e.pointerType !== 'touch') {
      const s = this.sample(e);
      this.hover = screenToImage(this.view, { left: 0, top: 0, width: 0, height: 0 }, s);
      this.scheduleDraw();
    }
  };

  private readonly onPointerEnd = (e: PointerEvent): void => {
    this.run(this.tracker.up(e.pointerId));
  };

  private readonly onPointerLeave = (): void => {
    this.hover = null;
    this.scheduleDraw();
  };

  private readonly onWheel = (e: WheelEvent): void => {
    if (!this.image) return;
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    this.setView(zoomAt(this.view, { x: e.clientX - r.left, y: e.clientY - r.top }, wheelFactor(e.deltaY, e.deltaMode)));
  };

  private run(actions: GestureAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'stroke-start': {
          this.strokeRect = null;
          this.strokeErases = a.erase || this.tool === 'eraser';
          const p = this.strokePoint(a.point, a.pointerType, a.pressure);
          this.lastPoint = p;
          this.paint(p, p);
          break;
        }
        case 'stroke-move': {
          const p = this.strokePoint(a.point, a.pointerType, a.pressure);
          if (this.lastPoint) this.paint(this.lastPoint, p);
          this.lastPoint = p;
          break;
        }
        case 'stroke-end':
          this.commitStroke();
          break;
        case 'stroke-cancel':
          if (this.strokeRect) {
            writeRect(this.mask, this.strokeRect, readRect(this.committed, this.strokeRect));
            this.refreshOverlay(this.strokeRect);
          }
          this.strokeRect = null;
          this.lastPoint = null;
          break;
        case 'view':
          this.userMovedView = true;
          this.emit('view-change');
          this.scheduleDraw();
          break;
      }
    }
  }

  private strokePoint(p: Point, pointerType: string, pressure: number): StrokePoint {
    const img = screenToImage(this.view, { left: 0, top: 0, width: 0, height: 0 }, p);
    return { x: img.x, y: img.y, r: radiusFor(this.size, pointerType, pressure) };
  }

  private paint(a: StrokePoint, b: StrokePoint): void {
    const rect = stampSegment(this.mask, a, b, { mode: this.strokeErases ? 'erase' : 'paint', softness: this.softness });
    if (!rect) return;
    this.strokeRect = unionRect(this.strokeRect, rect);
    this.refreshOverlay(rect);
  }

  private commitStroke(): void {
    const rect = this.strokeRect;
    this.strokeRect = null;
    this.lastPoint = null;
    if (!rect) return;
    const patch = diffPatch(this.committed, this.mask, rect);
    if (!patch) return;
    writeRect(this.committed, rect, patch.after);
    this.history.push(patch);
    this.emit('mask-change');
  }

  override render() {
    return html`<div class="stage ${this.spaceHeld ? 'panning' : ''}" data-testid="mask-stage">
      <canvas
        data-testid="mask-canvas"
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerEnd}
        @pointercancel=${this.onPointerEnd}
        @pointerleave=${this.onPointerLeave}
        @contextmenu=${(e: Event) => e.preventDefault()}
      ></canvas>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-mask-editor': EaselMaskEditor;
  }
}

// Helpers of the inpaint editor's browser tests: reach the editor inside the app's shadow roots,
// map image pixels to client coordinates from the editor's reported view (the mapping written out
// here on its own, not imported from the code under test), emulate touch through CDP
// Input.dispatchTouchEvent, and decode the exported mask.
import type { CDPSession, Page } from 'playwright-core';
import sharp from 'sharp';

export interface EditorState {
  view: { zoom: number; panX: number; panY: number };
  width: number;
  height: number;
  box: { left: number; top: number; width: number; height: number };
  masked: number;
}

export interface Pt {
  x: number;
  y: number;
}

/** The editor's view, image size and canvas box, read from the live component. */
export async function editorState(page: Page): Promise<EditorState> {
  return page.evaluate(() => {
    const panel = document.querySelector('easel-app')!.shadowRoot!.querySelector('easel-inpaint-panel')!.shadowRoot!;
    const ed = panel.querySelector('easel-mask-editor') as unknown as HTMLElement & {
      view: { zoom: number; panX: number; panY: number };
      imageWidth: number;
      imageHeight: number;
      maskedPixels: number;
    };
    const r = ed.shadowRoot!.querySelector('canvas')!.getBoundingClientRect();
    return {
      view: { ...ed.view },
      width: ed.imageWidth,
      height: ed.imageHeight,
      box: { left: r.left, top: r.top, width: r.width, height: r.height },
      masked: ed.maskedPixels,
    };
  });
}

/** Client point (rounded to whole CSS pixels, as real input arrives) over image point p. */
export function clientAt(s: EditorState, p: Pt): Pt {
  return { x: Math.round(s.box.left + s.view.panX + p.x * s.view.zoom), y: Math.round(s.box.top + s.view.panY + p.y * s.view.zoom) };
}

/** The image point under a client point. */
export function imageAt(s: EditorState, c: Pt): Pt {
  return { x: (c.x - s.box.left - s.view.panX) / s.view.zoom, y: (c.y - s.box.top - s.view.panY) / s.view.zoom };
}

export function insideBox(s: EditorState, c: Pt): boolean {
  return c.x > s.box.left && c.x < s.box.left + s.box.width && c.y > s.box.top && c.y < s.box.top + s.box.height;
}

/** The mask as the editor exports it (PNG data URL) decoded to one coverage byte per pixel. */
export async function exportedMask(page: Page): Promise<{ width: number; height: number; data: Uint8Array }> {
  const url = await page.evaluate(() => {
    const panel = document.querySelector('easel-app')!.shadowRoot!.querySelector('easel-inpaint-panel')!.shadowRoot!;
    const ed = panel.querySelector('easel-mask-editor') as unknown as { exportMask(): Promise<string> };
    return ed.exportMask();
  });
  if (!url.startsWith('data:image/png;base64,')) throw new Error(`the mask is not a PNG data URL: ${url.slice(0, 40)}`);
  const { data, info } = await sharp(Buffer.from(url.split(',')[1]!, 'base64')).raw().toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels]!;
  return { width: info.width, height: info.height, data: out };
}

export function distToSegment(p: Pt, a: Pt, b: Pt): number {
  const dx = b.x - a.x, dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Distance from pixel (x, y)'s centre to the nearest of the segments. */
export function nearest(x: number, y: number, segments: readonly (readonly [Pt, Pt])[]): number {
  let d = Infinity;
  for (const [a, b] of segments) d = Math.min(d, distToSegment({ x: x + 0.5, y: y + 0.5 }, a, b));
  return d;
}

/** Emulated touch through the DevTools protocol: each call lists every finger still down. */
export class TouchScreen {
  private constructor(private readonly cdp: CDPSession) {}

  static async open(page: Page): Promise<TouchScreen> {
    return new TouchScreen(await page.context().newCDPSession(page));
  }

  async start(points: readonly (Pt & { id: number })[]): Promise<void> {
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: points.map((p) => ({ ...p, radiusX: 4, radiusY: 4, force: 1 })) });
  }

  async move(points: readonly (Pt & { id: number })[]): Promise<void> {
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: points.map((p) => ({ ...p, radiusX: 4, radiusY: 4, force: 1 })) });
  }

  async end(): Promise<void> {
    await this.cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }

  /** A one-finger drag from a to b in `steps` moves. */
  async drag(a: Pt, b: Pt, steps = 12): Promise<void> {
    await this.start([{ ...a, id: 1 }]);
    for (let i = 1; i <= steps; i++) await this.move([{ x: a.x + ((b.x - a.x) * i) / steps, y: a.y + ((b.y - a.y) * i) / steps, id: 1 }]);
    await this.end();
  }
}

/** A test image with structure everywhere (so any repaint shows): RGB gradients and a grid. */
export async function patternPng(width: number, height: number): Promise<{ png: Buffer; rgb: Uint8Array }> {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grid = x % 16 === 0 || y % 16 === 0 ? 60 : 0;
      rgb[i] = Math.round((x / (width - 1)) * 200) + grid / 2;
      rgb[i + 1] = Math.round((y / (height - 1)) * 200) + grid / 2;
      rgb[i + 2] = 90 + grid;
    }
  }
  const png = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, rgb };
}

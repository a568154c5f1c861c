// Browser tests of the Inpaint tab: the built PWA in Debian's Chromium (playwright-core) against
// the real server on 127.0.0.1 port 0 running the real engine worker with the shared tiny SD1
// checkpoint. Mouse strokes at two zoom levels (wheel zoom), a pen stroke at half pressure (CDP
// mouse events with pointerType pen), and emulated touch (CDP touch events
// on a phone-sized, touch, DPR-3 context): the exported mask has the strokes where they went and
// nothing elsewhere; a pinch zooms without painting or scrolling; a second finger cancels a
// stroke; undo/redo from the keyboard. Then a full "inpaint only masked" job whose result may
// differ from the input only near the mask. Screenshots go to screenshots/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnected } from './browser-steps.js';
import { installTinyCheckpoint, SCREENSHOTS_DIR, startBrowserRig, startWebServer, TINY_MODEL, type BrowserRig, type WebTestServer } from './harness.js';
import { clientAt, editorState, exportedMask, imageAt, insideBox, nearest, patternPng, TouchScreen, type EditorState, type Pt } from './inpaint-harness.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const SLOW = 180_000;
/** cv2's Gaussian kernel for σ = 4 on 8-bit images is 25 taps: the blur reaches 12 px. */
const MASK_BLUR = 4;
const BLUR_REACH = 12;
/** The VAE works on 8×8 pixel cells: a repaint can bleed up to one cell past the blurred mask. */
const LATENT_CELL = 8;

let rig: BrowserRig;
let server: WebTestServer;
let desktop: BrowserContext;
let phone: BrowserContext;

async function openInpaint(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  await openConnected(p, server.server.url);
  await p.goto(`${server.server.url}/#/inpaint`);
  await p.locator('[data-testid="inpaint-empty"]').waitFor();
  return p;
}

async function loadImage(p: Page, png: Buffer, width: number): Promise<EditorState> {
  await p.locator('[data-testid="inpaint-file"]').setInputFiles({ name: 'pattern.png', mimeType: 'image/png', buffer: png });
  await expect.poll(async () => (await editorState(p)).width, { timeout: 30_000 }).toBe(width);
  // Let the resize observer settle the fit before reading the view.
  await p.waitForTimeout(200);
  return editorState(p);
}

async function setBrushSize(p: Page, size: number): Promise<void> {
  await p.locator('[data-testid="brush-size"]').evaluate((el, v) => {
    const input = el as HTMLInputElement;
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  }, size);
}

async function mouseStroke(p: Page, s: EditorState, a: Pt, b: Pt): Promise<[Pt, Pt]> {
  const ca = clientAt(s, a);
  const cb = clientAt(s, b);
  expect(insideBox(s, ca) && insideBox(s, cb), 'stroke inside the canvas').toBe(true);
  await p.mouse.move(ca.x, ca.y);
  await p.mouse.down();
  await p.mouse.move(cb.x, cb.y, { steps: 12 });
  await p.mouse.up();
  // The segment the pointer really drew, in image coordinates (client points are whole pixels).
  return [imageAt(s, ca), imageAt(s, cb)];
}

/** Every pixel whose centre is well inside a stroke is painted; none clearly outside all strokes is. */
function expectStrokes(mask: { width: number; height: number; data: Uint8Array }, segments: (readonly [Pt, Pt])[], radius: number, slack: number): void {
  let missing = 0, stray = 0, inside = 0;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      const d = nearest(x, y, segments);
      const v = mask.data[y * mask.width + x]!;
      if (d <= radius - slack) {
        inside++;
        if (v !== 255) missing++;
      } else if (d > radius + slack && v !== 0) stray++;
    }
  }
  expect(inside).toBeGreaterThan(20);
  expect({ missing, stray }).toEqual({ missing: 0, stray: 0 });
}

beforeAll(async () => {
  rig = await startBrowserRig();
  server = await startWebServer(rig.dist, { fakeEngine: false });
  installTinyCheckpoint(server.dataDir);
  desktop = await rig.newContext({ viewport: DESKTOP });
  phone = await rig.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, deviceScaleFactor: 3 });
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await server?.dispose();
}, 120_000);

describe.sequential('Inpaint editor in Chromium', () => {
  it(
    'paints with the mouse at two zoom levels; the exported mask holds exactly the strokes; keyboard undo/redo',
    async () => {
      const p = await openInpaint(desktop);
      const { png } = await patternPng(128, 96);
      const s1 = await loadImage(p, png, 128);
      expect(s1.height).toBe(96);
      await setBrushSize(p, 6);
      await p.keyboard.press(']');
      await expect.poll(() => p.locator('label[for="brush-size"]').innerText()).toContain('7 px');
      await p.keyboard.press('[');
      await expect.poll(() => p.locator('label[for="brush-size"]').innerText()).toContain('6 px');

      const seg1 = await mouseStroke(p, s1, { x: 20, y: 30 }, { x: 100, y: 30 });
      // Wheel zoom around the canvas centre.
      const centre = { x: s1.box.left + s1.box.width / 2, y: s1.box.top + s1.box.height / 2 };
      await p.mouse.move(centre.x, centre.y);
      await p.mouse.wheel(0, -400);
      await expect.poll(async () => (await editorState(p)).view.zoom, { timeout: 10_000 }).toBeGreaterThan(s1.view.zoom * 1.5);
      const s2 = await editorState(p);
      // The image point under the cursor stayed under it.
      const under1 = imageAt(s1, centre);
      const under2 = imageAt(s2, centre);
      expect(Math.abs(under1.x - under2.x)).toBeLessThan(0.5);
      expect(Math.abs(under1.y - under2.y)).toBeLessThan(0.5);
      const seg2 = await mouseStroke(p, s2, { x: under2.x - 15, y: under2.y + 14 }, { x: under2.x + 15, y: under2.y + 14 });

      const mask = await exportedMask(p);
      expect([mask.width, mask.height]).toEqual([128, 96]);
      expectStrokes(mask, [seg1, seg2], 3, 1);

      await p.screenshot({ path: join(SCREENSHOTS_DIR, `inpaint-editor-${DESKTOP.width}x${DESKTOP.height}.png`) });

      await p.keyboard.press('Control+z');
      expectStrokes(await exportedMask(p), [seg1], 3, 1);
      await p.keyboard.press('Control+Shift+z');
      expectStrokes(await exportedMask(p), [seg1, seg2], 3, 1);
      // Invert then clear: one undo entry each.
      await p.locator('[data-testid="invert"]').click();
      expect((await exportedMask(p)).data[0]).toBe(255);
      await p.locator('[data-testid="clear"]').click();
      expect((await exportedMask(p)).data.every((v) => v === 0)).toBe(true);
      await p.locator('[data-testid="undo"]').click();
      await p.locator('[data-testid="undo"]').click();
      expectStrokes(await exportedMask(p), [seg1, seg2], 3, 1);
      await p.close();
    },
    SLOW,
  );

  it(
    'narrows the line with pen pressure',
    async () => {
      const p = await openInpaint(desktop);
      const { png } = await patternPng(128, 96);
      const s = await loadImage(p, png, 128);
      await setBrushSize(p, 16);
      const cdp = await p.context().newCDPSession(p);
      const a = clientAt(s, { x: 20, y: 48 });
      const b = clientAt(s, { x: 100, y: 48 });
      const pen = { button: 'left' as const, pointerType: 'pen' as const, force: 0.5 };
      await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: a.x, y: a.y, pointerType: 'pen' });
      await cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: a.x, y: a.y, clickCount: 1, buttons: 1, ...pen });
      for (let i = 1; i <= 10; i++) {
        await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: a.x + ((b.x - a.x) * i) / 10, y: a.y, buttons: 1, ...pen });
      }
      await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: b.x, y: b.y, clickCount: 1, buttons: 0, ...pen });
      // Half pressure: a line 8 px wide, not the brush's 16.
      expectStrokes(await exportedMask(p), [[imageAt(s, a), imageAt(s, b)]], 4, 1);
      await p.close();
    },
    SLOW,
  );

  it(
    'paints with one finger without scrolling, pinches without painting, and a second finger cancels a stroke',
    async () => {
      const p = await openInpaint(phone);
      const touch = await TouchScreen.open(p);
      const { png } = await patternPng(128, 96);
      await loadImage(p, png, 128);
      await p.locator('[data-testid="mask-canvas"]').scrollIntoViewIfNeeded();
      await p.waitForTimeout(200);
      await setBrushSize(p, 8);
      const s1 = await editorState(p);
      // The backing store is in device pixels (DPR 3).
      const backing = await p.locator('[data-testid="mask-canvas"]').evaluate((c) => (c as HTMLCanvasElement).width);
      expect(backing).toBe(Math.round(s1.box.width * 3));

      const scrollBefore = await p.evaluate(() => window.scrollY);
      // An upward one-finger drag: on a normal element it would scroll the page down.
      const a = clientAt(s1, { x: 30, y: 80 });
      const b = clientAt(s1, { x: 30, y: 15 });
      await touch.drag(a, b);
      expect(await p.evaluate(() => window.scrollY)).toBe(scrollBefore);
      const seg1 = [imageAt(s1, a), imageAt(s1, b)] as const;
      const afterStroke = await exportedMask(p);
      expectStrokes(afterStroke, [seg1], 4, 1);

      // Pinch: fingers 60 px apart spread to 180 px around the canvas centre.
      const c = { x: Math.round(s1.box.left + s1.box.width / 2), y: Math.round(s1.box.top + s1.box.height / 2) };
      await touch.start([
        { x: c.x - 30, y: c.y, id: 1 },
        { x: c.x + 30, y: c.y, id: 2 },
      ]);
      for (let i = 1; i <= 10; i++) {
        const half = 30 + i * 6;
        await touch.move([
          { x: c.x - half, y: c.y, id: 1 },
          { x: c.x + half, y: c.y, id: 2 },
        ]);
      }
      await touch.end();
      const s2 = await editorState(p);
      expect(s2.view.zoom / s1.view.zoom).toBeGreaterThan(2.6);
      expect(s2.view.zoom / s1.view.zoom).toBeLessThan(3.4);
      expect(Buffer.from((await exportedMask(p)).data).equals(Buffer.from(afterStroke.data))).toBe(true);
      expect(await p.evaluate(() => window.scrollY)).toBe(scrollBefore);

      // A stroke that becomes a pinch leaves nothing behind.
      const under = imageAt(s2, c);
      const f1 = clientAt(s2, { x: under.x + 8, y: under.y - 5 });
      await touch.start([{ ...f1, id: 1 }]);
      await touch.move([{ x: f1.x + 20, y: f1.y, id: 1 }]);
      await touch.start([
        { x: f1.x + 20, y: f1.y, id: 1 },
        { x: f1.x + 20, y: f1.y + 80, id: 2 },
      ]);
      await touch.move([
        { x: f1.x + 25, y: f1.y, id: 1 },
        { x: f1.x + 25, y: f1.y + 80, id: 2 },
      ]);
      await touch.end();
      expect(Buffer.from((await exportedMask(p)).data).equals(Buffer.from(afterStroke.data))).toBe(true);

      // At the new zoom a one-finger stroke still lands exactly where it went.
      const s3 = await editorState(p);
      const a2 = clientAt(s3, { x: under.x - 10, y: under.y + 6 });
      const b2 = clientAt(s3, { x: under.x + 10, y: under.y + 6 });
      expect(insideBox(s3, a2) && insideBox(s3, b2)).toBe(true);
      await touch.drag(a2, b2);
      expectStrokes(await exportedMask(p), [seg1, [imageAt(s3, a2), imageAt(s3, b2)]], 4, 1);

      await p.locator('[data-testid="fit"]').click();
      const { scrollWidth, innerWidth } = await p.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      await p.evaluate(() => window.scrollTo(0, 0));
      await p.screenshot({ path: join(SCREENSHOTS_DIR, `inpaint-editor-${PHONE.width}x${PHONE.height}.png`) });
      await p.close();
    },
    SLOW,
  );

  it(
    'runs a real inpaint job (only masked, padding 0): the result differs from the input only near the mask',
    async () => {
      const p = await openInpaint(desktop);
      const { png, rgb } = await patternPng(128, 128);
      const s = await loadImage(p, png, 128);
      await setBrushSize(p, 12);
      await mouseStroke(p, s, { x: 50, y: 64 }, { x: 78, y: 64 });
      const mask = await exportedMask(p);

      await p.locator('easel-inpaint-form details summary').click();
      await expect.poll(() => p.locator(`#i-model option[value="${TINY_MODEL}"]`).count(), { timeout: 30_000 }).toBe(1);
      await p.locator('#i-model').selectOption(TINY_MODEL);
      await p.locator('[data-testid="only-masked"]').check();
      for (const [id, value] of [['#i-steps', '3'], ['#i-seed', '11'], ['#i-mask_blur', String(MASK_BLUR)], ['#i-inpaint_full_res_padding', '0']] as const) {
        await p.locator(id).fill(value);
        await p.locator(id).dispatchEvent('change');
      }
      await p.locator('easel-prompt-field[name="inpaint-prompt"] textarea').fill('a blue flower');
      await p.locator('[data-testid="inpaint-generate"]').click();
      const after = p.locator('[data-testid="compare-after"]');
      await after.waitFor({ timeout: 120_000 });
      const src = await after.getAttribute('src');
      const res = await fetch(src!);
      expect(res.ok).toBe(true);
      const { data: out, info } = await sharp(Buffer.from(await res.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([128, 128, 3]);

      const masked: Pt[] = [];
      for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) if (mask.data[y * 128 + x]! >= 128) masked.push({ x, y });
      expect(masked.length).toBeGreaterThan(200);
      const reach = BLUR_REACH + LATENT_CELL;
      let far = 0, changedFar = 0, changedInside = 0;
      for (let y = 0; y < 128; y++) {
        for (let x = 0; x < 128; x++) {
          const i = (y * 128 + x) * 3;
          const diff = Math.max(Math.abs(out[i]! - rgb[i]!), Math.abs(out[i + 1]! - rgb[i + 1]!), Math.abs(out[i + 2]! - rgb[i + 2]!));
          if (mask.data[y * 128 + x]! >= 128) {
            if (diff > 8) changedInside++;
            continue;
          }
          let d = Infinity;
          for (const m of masked) d = Math.min(d, Math.hypot(m.x - x, m.y - y));
          if (d > reach) {
            far++;
            if (diff !== 0) changedFar++;
          }
        }
      }
      expect(far).toBeGreaterThan(5000);
      expect(changedFar).toBe(0);
      expect(changedInside).toBeGreaterThan(masked.length / 4);

      // "Continue editing": the result becomes the source and the mask stays.
      await p.locator('[data-testid="continue-editing"]').click();
      await expect.poll(() => p.locator('[data-testid="inpaint-source"]').innerText(), { timeout: 30_000 }).toContain('seed 11');
      expect((await editorState(p)).masked).toBe(masked.length);
      await p.close();

      // "Send to inpaint" from the gallery opens the result in a fresh Inpaint tab.
      const g = await openInpaint(desktop);
      await g.goto(`${server.server.url}/#/gallery`);
      await g.locator('[data-testid="gallery-item"]').first().click();
      await g.locator('easel-image-viewer').getByRole('button', { name: 'Inpaint' }).click();
      await expect.poll(() => g.evaluate(() => location.hash)).toBe('#/inpaint');
      await expect.poll(() => g.locator('[data-testid="inpaint-source"]').innerText(), { timeout: 30_000 }).toContain('seed 11 · 128×128');
      await g.close();
    },
    SLOW,
  );
});

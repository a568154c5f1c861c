// Bench-only: how smoothly the Gallery tab scrolls through a large gallery in Chromium. Opens the
// tab, waits for the first page, then (inside the page, timed by requestAnimationFrame) scrolls the
// window at a steady speed for a few seconds, flings to the bottom on every frame, which pulls page
// after page through the grid's infinite scroll until the whole gallery is loaded, and finally
// scrolls steadily back up with the whole gallery in the grid's list.
// Frame intervals, items loaded, DOM cells and JS heap are read in the page; nothing is asserted.
//
// The in-page code is a plain JS string, not a function handed to page.evaluate: tsx compiles this
// file with esbuild's keepNames, whose `__name(...)` helper does not exist inside the page.
import type { Page } from 'playwright-core';

export interface FrameStats {
  frames: number;
  /** Frame intervals, ms. */
  median: number;
  p95: number;
  max: number;
  /** Intervals over 50 ms: a visible stutter (three missed frames at 60 Hz). */
  over50: number;
}

export interface PhaseResult {
  /** Wall time of the phase, ms. */
  ms: number;
  frames: FrameStats;
  /** Images in the grid's list at the end of the phase. */
  items: number;
  /** Thumbnail cells in the grid's DOM at the end of the phase, and the most seen during it. */
  cellsEnd: number;
  cellsMax: number;
  /** `performance.memory.usedJSHeapSize` at the end, bytes; null where the browser has none. */
  heapBytes: number | null;
}

export interface GalleryScrollResult {
  viewport: { width: number; height: number };
  /** Tab click → the first page's cells in the DOM (thumbnails may still be loading), ms. */
  firstPageMs: number;
  scroll: PhaseResult;
  fling: PhaseResult;
  /** The steady scroll again, upwards from the end, with everything the fling loaded in the list. */
  back: PhaseResult;
  /** Whether the fling loaded every expected image before its time limit or a stall. */
  complete: boolean;
}

export interface GalleryScrollOptions {
  /** Images in the gallery: the fling stops when the grid holds this many. */
  expected: number;
  /** Steady phase: scroll speed and duration. */
  pxPerSecond?: number;
  scrollMs?: number;
  /** Fling phase: give up after this long, or after this long without a new page. */
  flingMaxMs?: number;
  stallMs?: number;
}

/** Median, nearest-rank p95, max and count over 50 ms of frame intervals. */
export function frameStats(intervals: readonly number[]): FrameStats {
  const s = [...intervals].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { frames: 0, median: 0, p95: 0, max: 0, over50: 0 };
  const mid = Math.floor(n / 2);
  return {
    frames: n,
    median: n % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2,
    p95: s[Math.ceil(0.95 * n) - 1]!,
    max: s[n - 1]!,
    over50: s.filter((x) => x > 50).length,
  };
}

/** Finds the first element matching `sel` anywhere in the document, through open shadow roots. */
const DEEP_FIND = `function deepFind(root, sel) {
  const hit = root.querySelector(sel);
  if (hit) return hit;
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) {
      const found = deepFind(el.shadowRoot, sel);
      if (found) return found;
    }
  }
  return null;
}`;

/** Clicks the Gallery tab and resolves with the ms until the grid shows at least `min` cells. */
const FIRST_PAGE_PROBE = `(async (min) => {
  ${DEEP_FIND}
  const t0 = performance.now();
  deepFind(document, 'nav a[data-tab="gallery"]').click();
  for (;;) {
    const grid = deepFind(document, 'easel-gallery-grid');
    const cells = grid && grid.shadowRoot ? grid.shadowRoot.querySelectorAll('[data-testid="gallery-item"]').length : 0;
    if (grid && grid.items.length >= min && cells > 0) return performance.now() - t0;
    await new Promise((r) => requestAnimationFrame(r));
  }
})`;

interface RawPhase {
  ms: number;
  intervals: number[];
  items: number;
  cellsEnd: number;
  cellsMax: number;
  heapBytes: number | null;
}

/** The three phases, in the page: a RawPhase each, and whether the fling loaded every image. */
const SCROLL_PROBE = `(async (o) => {
  ${DEEP_FIND}
  const grid = deepFind(document, 'easel-gallery-grid');
  const cells = () => grid.shadowRoot.querySelectorAll('[data-testid="gallery-item"]').length;
  const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : null);
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  // step(now, dt) scrolls; done(now, t0) ends the phase. Cells are counted every 10th frame so the
  // count itself stays out of the frames being timed.
  const phase = async (step, done) => {
    let last = await frame();
    const t0 = last;
    const intervals = [];
    let cellsMax = cells();
    while (!done(last, t0)) {
      const now = await frame();
      intervals.push(now - last);
      step(now, now - last);
      last = now;
      if (intervals.length % 10 === 0) cellsMax = Math.max(cellsMax, cells());
    }
    await frame();
    await frame();
    const end = cells();
    return { ms: last - t0, intervals, items: grid.items.length, cellsEnd: end, cellsMax: Math.max(cellsMax, end), heapBytes: heap() };
  };
  window.scrollTo(0, 0);
  await frame();
  await frame();
  const scroll = await phase(
    (now, dt) => window.scrollBy(0, (o.pxPerSecond * dt) / 1000),
    (now, t0) => now - t0 >= o.scrollMs,
  );
  let seen = grid.items.length;
  let grewAt = performance.now();
  const fling = await phase(
    () => window.scrollTo(0, document.documentElement.scrollHeight),
    (now, t0) => {
      const n = grid.items.length;
      if (n !== seen) {
        seen = n;
        grewAt = now;
      }
      return n >= o.expected || now - t0 >= o.flingMaxMs || now - grewAt >= o.stallMs;
    },
  );
  const complete = grid.items.length >= o.expected;
  const back = await phase(
    (now, dt) => window.scrollBy(0, -(o.pxPerSecond * dt) / 1000),
    (now, t0) => now - t0 >= o.scrollMs,
  );
  return { scroll, fling, back, complete };
})`;

function toPhase(raw: RawPhase): PhaseResult {
  return { ms: raw.ms, frames: frameStats(raw.intervals), items: raw.items, cellsEnd: raw.cellsEnd, cellsMax: raw.cellsMax, heapBytes: raw.heapBytes };
}

/**
 * On a page already showing the connected app: opens the Gallery tab and measures it.
 *
 * @example const r = await measureGalleryScroll(page, { expected: 10_000 })
 */
export async function measureGalleryScroll(page: Page, opts: GalleryScrollOptions): Promise<GalleryScrollResult> {
  const o = {
    expected: opts.expected,
    pxPerSecond: opts.pxPerSecond ?? 3000,
    scrollMs: opts.scrollMs ?? 5000,
    flingMaxMs: opts.flingMaxMs ?? 240_000,
    stallMs: opts.stallMs ?? 20_000,
  };
  await page.locator('nav a[data-tab="gallery"]').waitFor();
  const firstPageMs = (await page.evaluate(`${FIRST_PAGE_PROBE}(${Math.min(o.expected, 1)})`)) as number;
  const raw = (await page.evaluate(`${SCROLL_PROBE}(${JSON.stringify(o)})`)) as { scroll: RawPhase; fling: RawPhase; back: RawPhase; complete: boolean };
  return { viewport: page.viewportSize() ?? { width: 0, height: 0 }, firstPageMs, scroll: toPhase(raw.scroll), fling: toPhase(raw.fling), back: toPhase(raw.back), complete: raw.complete };
}

// `npm run bench:web`: builds the PWA, prints the gzip size of its JS and CSS, then serves the
// build from the real server and measures time to interactive in Chromium (navigation start →
// the shell rendered and its tabs clickable), cold (no cache, no service worker) and warm
// (service worker and HTTP cache in place). With `--gallery N` it also seeds N gallery images
// (seed-gallery.ts) into a second server and measures scrolling the Gallery tab through all of them
// at phone and desktop size (gallery-scroll.ts). A benchmark, not a test: it prints, never asserts.
//
// Usage: npm run bench:web [-- --runs N] [--gallery N] [--help]
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { buildWeb, launchChromium, startWebServer, tempWebDist, TEST_TOKEN } from '../test/harness.js';
import { measureGalleryScroll, type GalleryScrollResult, type PhaseResult } from './gallery-scroll.js';
import { seedGalleryImages, type SeedGalleryResult } from './seed-gallery.js';

interface Args {
  runs: number;
  /** Images to seed for the gallery scroll measurement; null: not measured. */
  gallery: number | null;
}

const USAGE = `npm run bench:web [-- --runs N] [--gallery N]
  gzip size of the built JS/CSS and time to interactive in Chromium on the served build
  --runs N      time-to-interactive runs (default 5)
  --gallery N   also seed N gallery images and measure scrolling the Gallery tab through all of them
                at 390×844 and 1280×800: frame times, items loaded, DOM cells, JS heap (e.g. 10000)`;

function positiveInt(argv: readonly string[], flag: string, fallback: number | null): number | null {
  const i = argv.indexOf(flag);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${argv[i + 1]}`);
  return n;
}

function parseArgs(argv: readonly string[]): Args | null {
  if (argv.includes('--help')) return null;
  return { runs: positiveInt(argv, '--runs', 5)!, gallery: positiveInt(argv, '--gallery', null) };
}

const GALLERY_VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;

function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}

function mib(bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function phaseRow(viewport: string, name: string, p: PhaseResult): string {
  const f = p.frames;
  return `| ${viewport} | ${name} | ${(p.ms / 1000).toFixed(1)} s | ${p.items} | ${p.cellsEnd} / ${p.cellsMax} | ${f.frames} | ${ms(f.median)} | ${ms(f.p95)} | ${ms(f.max)} | ${f.over50} | ${mib(p.heapBytes)} |`;
}

async function benchInteractive(browser: Browser, dist: string, runs: number): Promise<void> {
  const srv = await startWebServer(dist, { fakeEngine: false });
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await ctx.newPage();
      await page.goto(`${srv.server.url}/#token=${TEST_TOKEN}`);
      cold.push((await page.evaluate(INTERACTIVE_PROBE)) as number);
      await page.evaluate('navigator.serviceWorker.ready');
      await page.reload();
      warm.push((await page.evaluate(INTERACTIVE_PROBE)) as number);
      await ctx.close();
    }
  } finally {
    await srv.dispose();
  }
  console.log(`\nTime to interactive (navigation start → shell and form usable), ${runs} runs, Chromium ${browser.version()}, 390×844:\n`);
  console.log('| load | median | min | max |\n|---|---:|---:|---:|');
  for (const [name, xs] of [
    ['cold (empty cache)', cold],
    ['warm (service worker)', warm],
  ] as const) {
    console.log(`| ${name} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
  }
}

/** Seeds `count` images into a fresh server and scrolls its Gallery tab at each viewport size. */
async function benchGallery(browser: Browser, dist: string, count: number): Promise<void> {
  let seeded: SeedGalleryResult = { count: 0, ms: 0 };
  const t0 = performance.now();
  const srv = await startWebServer(dist, {
    fakeEngine: false,
    beforeStart: async (dataDir) => {
      seeded = await seedGalleryImages(dataDir, count);
    },
  });
  const startMs = performance.now() - t0 - seeded.ms;
  const results: GalleryScrollResult[] = [];
  try {
    for (const viewport of GALLERY_VIEWPORTS) {
      const ctx = await browser.newContext({ viewport });
      try {
        const page = await ctx.newPage();
        await page.goto(`${srv.server.url}/#token=${TEST_TOKEN}`);
        await page.evaluate(INTERACTIVE_PROBE);
        results.push(await measureGalleryScroll(page, { expected: count }));
      } finally {
        await ctx.close();
      }
    }
  } finally {
    await srv.dispose();
  }
  console.log(
    `\nGallery with ${count} images (seeded in ${(seeded.ms / 1000).toFixed(1)} s; server start with them ${(startMs / 1000).toFixed(1)} s). ` +
      'Steady scroll: 3000 px/s for 5 s (down from the top, then up from the end); fling: jump to the bottom every frame until every page is loaded. ' +
      'Cells: thumbnail cells in the DOM at the end / most seen. Frame times are requestAnimationFrame intervals.\n',
  );
  console.log('| viewport | phase | time | items loaded | cells end / max | frames | median | p95 | max | > 50 ms | JS heap |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const vp = `${r.viewport.width}×${r.viewport.height}`;
    console.log(phaseRow(vp, `steady scroll (first page ${r.firstPageMs.toFixed(0)} ms)`, r.scroll));
    console.log(phaseRow(vp, r.complete ? 'fling to end' : `fling to end (stopped at ${r.fling.items} of ${count})`, r.fling));
    console.log(phaseRow(vp, 'steady scroll up, all loaded', r.back));
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** In the page: ms from navigation start until the shell's tab bar is rendered and clickable. */
const INTERACTIVE_PROBE = `new Promise((resolve) => {
  const check = () => {
    const app = document.querySelector('easel-app');
    const tab = app && app.shadowRoot && app.shadowRoot.querySelector('nav a[data-tab="gallery"]');
    const panel = app && app.shadowRoot && app.shadowRoot.querySelector('easel-generate-panel');
    const form = panel && panel.shadowRoot && panel.shadowRoot.querySelector('[data-testid="generate"]');
    if (tab && form && customElements.get('easel-app')) resolve(performance.now());
    else requestAnimationFrame(check);
  };
  check();
})`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    console.log(USAGE);
    return;
  }
  const dist = tempWebDist();
  const t0 = performance.now();
  buildWeb(dist);
  const buildMs = performance.now() - t0;

  const rows: [string, string, string][] = [];
  let jsRaw = 0;
  let jsGz = 0;
  let cssRaw = 0;
  let cssGz = 0;
  for (const file of walk(dist)) {
    if (!/\.(js|css)$/.test(file)) continue;
    const bytes = readFileSync(file);
    const gz = gzipSync(bytes, { level: 9 }).length;
    rows.push([relative(dist, file), kb(bytes.length), kb(gz)]);
    if (file.endsWith('.css')) {
      cssRaw += bytes.length;
      cssGz += gz;
    } else if (relative(dist, file).startsWith('assets/')) {
      // Root-level sw.js and workbox-*.js run in the service worker, not in the page.
      jsRaw += bytes.length;
      jsGz += gz;
    }
  }
  console.log(`\nBuild: ${(buildMs / 1000).toFixed(1)} s\n`);
  console.log('| file | raw | gzip |\n|---|---:|---:|');
  for (const r of rows.sort()) console.log(`| ${r.join(' | ')} |`);
  console.log(`| **app JS (without service worker)** | ${kb(jsRaw)} | ${kb(jsGz)} |`);
  console.log(`| **CSS** | ${kb(cssRaw)} | ${kb(cssGz)} |`);

  // Precise memory: performance.memory is otherwise rounded to coarse buckets.
  const browser = await launchChromium(['--enable-precise-memory-info']);
  try {
    await benchInteractive(browser, dist, args.runs);
    if (args.gallery !== null) await benchGallery(browser, dist, args.gallery);
  } finally {
    await browser.close();
    rmSync(dist, { recursive: true, force: true });
  }
}

await main();

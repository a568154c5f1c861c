// `npm run bench:web`: builds the PWA, prints the gzip size of its JS and CSS, then serves the
// build from the real server and measures time to interactive in Chromium (navigation start →
// the shell rendered and its tabs clickable), cold (no cache, no service worker) and warm
// (service worker and HTTP cache in place). A benchmark, not a test: it prints, never asserts.
//
// Usage: npm run bench:web [-- --runs N] [--help]
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildWeb, launchChromium, startWebServer, tempWebDist, TEST_TOKEN } from '../test/harness.js';

interface Args {
  runs: number;
}

function parseArgs(argv: readonly string[]): Args | null {
  if (argv.includes('--help')) return null;
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${argv[i + 1]}`);
  return { runs };
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
    console.log('npm run bench:web [-- --runs N]: gzip size of the built JS/CSS and time to interactive in Chromium on the served build');
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

  const srv = await startWebServer(dist, { fakeEngine: false });
  const browser = await launchChromium();
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await ctx.newPage();
      await page.goto(`${srv.server.url}/#token=${TEST_TOKEN}`);
      cold.push((await page.evaluate(INTERACTIVE_PROBE)) as number);
      await page.evaluate('navigator.serviceWorker.ready');
      await page.reload();
      warm.push((await page.evaluate(INTERACTIVE_PROBE)) as number);
      await ctx.close();
    }
    console.log(`\nTime to interactive (navigation start → shell and form usable), ${args.runs} runs, Chromium ${browser.version()}, 390×844:\n`);
    console.log('| load | median | min | max |\n|---|---:|---:|---:|');
    for (const [name, xs] of [
      ['cold (empty cache)', cold],
      ['warm (service worker)', warm],
    ] as const) {
      console.log(`| ${name} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
    }
  } finally {
    await browser.close();
    await srv.dispose();
    rmSync(dist, { recursive: true, force: true });
  }
}

await main();

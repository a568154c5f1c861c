// Browser test of the server link and the remembered servers: the built PWA in Debian's Chromium,
// served by server A (as GitHub Pages would serve it), opened with `#server=<B>&token=<t>` where B
// is a second real server that allows A's origin by CORS (as a Colab server allows the Pages
// origin). The two galleries hold different images, so a gallery search shows which server
// the app is really talking to.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/server.js';
import { waitConnected } from './browser-steps.js';
import { seedGallery, startBrowserRig, startWebServer, TEST_TOKEN, type BrowserRig, type WebTestServer } from './harness.js';

const SLOW = 180_000;
const B_TOKEN = 'colab-token-b-0123456789abcdef';

let rig: BrowserRig;
let pages: WebTestServer;
let colabServer: WebTestServer;
let colab: RunningServer;
let ctx: BrowserContext;
let page: Page;

/**
 * Reloads the app on the gallery tab and waits until a search for `term` shows `expected` images
 * from the server (not the offline copy, not loading). The two servers hold different images, so
 * each count can only come from one of them.
 */
async function expectSearch(p: Page, term: string, expected: number): Promise<void> {
  const base = new URL(p.url());
  await p.goto(`${base.origin}${base.pathname}#/gallery`);
  await p.reload();
  await waitConnected(p);
  await p.locator('[data-testid="gallery-search"]').fill(term);
  const status = p.locator('[data-testid="gallery-status"]');
  await expect
    .poll(
      async () => {
        const text = (await status.innerText()).trim();
        return `${/^(\d+)/.exec(text)?.[1] ?? '?'} images${/offline|loading/i.test(text) ? ' (not final)' : ''}`;
      },
      { timeout: 30_000 },
    )
    .toBe(`${expected} images`);
}

async function servers(p: Page): Promise<{ name: string; url: string | null; active: string | null }[]> {
  const items = p.locator('[data-testid="server-item"]');
  const out = [];
  for (let i = 0; i < (await items.count()); i++) {
    const item = items.nth(i);
    out.push({ name: await item.locator('[data-testid="server-name"]').innerText(), url: await item.getAttribute('data-url'), active: await item.getAttribute('data-active') });
  }
  return out;
}

beforeAll(async () => {
  rig = await startBrowserRig();
  pages = await startWebServer(rig.dist, { fakeEngine: true });
  // B serves no web app and allows A's origin, as a Colab server allows the Pages origin.
  colabServer = await startWebServer(null, { fakeEngine: true, token: B_TOKEN, env: { CORS_ORIGINS: pages.server.url } });
  colab = colabServer.server;
  await seedGallery(pages.server, [{ prompt: 'a lighthouse on a cliff' }]);
  await seedGallery(colab, [{ prompt: 'a zebra in the savanna' }, { prompt: 'zebra crossing a road' }, { prompt: 'an oak tree' }]);
  ctx = await rig.newContext({ viewport: { width: 390, height: 844 } });
  page = await ctx.newPage();
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await colabServer?.dispose();
  await pages?.dispose();
}, 120_000);

describe.sequential('server links and remembered servers in Chromium', () => {
  it(
    'a #server= link connects to that server and leaves no token in the address bar',
    async () => {
      const link = `${pages.server.url}/#server=${encodeURIComponent(colab.url)}&token=${encodeURIComponent(B_TOKEN)}&name=${encodeURIComponent('Colab T4')}`;
      await page.goto(link);
      await waitConnected(page);
      const url = new URL(page.url());
      expect(url.hash).toBe('');
      expect(page.url()).not.toContain(B_TOKEN);
      expect(page.url()).not.toContain('server=');
      // Talking to B: its image is found, A's is not.
      await expectSearch(page, 'zebra', 2);
      await expectSearch(page, 'lighthouse', 0);

      await page.goto(`${pages.server.url}/#/settings`);
      await expect.poll(() => servers(page)).toEqual([{ name: 'Colab T4', url: colab.url, active: 'true' }]);
      // Survives a reload: the server was remembered, not only applied.
      await page.reload();
      await waitConnected(page);
      await expect.poll(() => servers(page)).toEqual([{ name: 'Colab T4', url: colab.url, active: 'true' }]);
    },
    SLOW,
  );

  it(
    'a second server can be added, switched to and back, and forgotten',
    async () => {
      await page.goto(`${pages.server.url}/#/settings`);
      await page.locator('[data-testid="new-server"]').click();
      await expect.poll(() => page.locator('[data-testid="server-url"]').inputValue()).toBe('');
      await page.locator('[data-testid="server-label"]').fill('Laptop');
      await page.locator('[data-testid="server-url"]').fill(pages.server.url);
      await page.locator('[data-testid="server-token"]').fill(TEST_TOKEN);
      await page.locator('[data-testid="test-connection"]').click();
      await expect.poll(() => page.locator('[data-testid="test-result"]').innerText(), { timeout: 30_000 }).toContain('Connected');
      await page.locator('[data-testid="save-server"]').click();
      await expect
        .poll(() => servers(page))
        .toEqual([
          { name: 'Colab T4', url: colab.url, active: 'false' },
          { name: 'Laptop', url: pages.server.url, active: 'true' },
        ]);
      await waitConnected(page);
      await expectSearch(page, 'lighthouse', 1);
      await expectSearch(page, 'zebra', 0);

      // Back to the Colab server from the list: its token was kept.
      await page.goto(`${pages.server.url}/#/settings`);
      await page.locator('[data-testid="server-item"][data-url="' + colab.url + '"] [data-testid="server-switch"]').click();
      await expect.poll(async () => (await servers(page)).find((s) => s.active === 'true')?.name).toBe('Colab T4');
      await expect.poll(() => page.locator('[data-testid="server-url"]').inputValue()).toBe(colab.url);
      await waitConnected(page);
      await expectSearch(page, 'zebra', 2);

      await page.goto(`${pages.server.url}/#/settings`);
      await page.locator('[data-testid="server-item"][data-url="' + pages.server.url + '"] [data-testid="server-forget"]').click();
      await expect.poll(() => servers(page)).toEqual([{ name: 'Colab T4', url: colab.url, active: 'true' }]);
    },
    SLOW,
  );
});

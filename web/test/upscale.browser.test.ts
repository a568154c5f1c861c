// Browser test of the Upscale action: the built PWA in Chromium against the real server and the
// real engine worker, with the upscale-tiny fixture's SRVGGNetCompact model copied into the temp
// $MODELS_DIR/upscalers. On a phone-sized screen: open a gallery image, pick the model in the
// upscaler picker (next to Lanczos / Nearest), scale 2, tile 16; the progress bar counts the tiles,
// the result shows at 128×128 and lands in the gallery with task "upscale".
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../native/testing/fixtures.js';
import { openConnected } from './browser-steps.js';
import { SCREENSHOTS_DIR, seedGallery, startBrowserRig, startWebServer, type BrowserRig, type WebTestServer } from './harness.js';

const PHONE = { width: 390, height: 844 };
const SLOW = 240_000;

let rig: BrowserRig;
let server: WebTestServer;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig();
  server = await startWebServer(rig.dist, {
    fakeEngine: false,
    beforeStart: async (dataDir) => {
      mkdirSync(join(dataDir, 'models', 'upscalers'), { recursive: true });
      copyFileSync(fixturePath('upscale-tiny', 'compact_x4.pth'), join(dataDir, 'models', 'upscalers', 'compact_x4.pth'));
    },
  });
  await seedGallery(server.server, [{ prompt: 'a lighthouse to upscale' }]);
  ctx = await rig.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  page = await ctx.newPage();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await server?.dispose();
}, 120_000);

describe('Upscale from the gallery on a phone', () => {
  it(
    'upscales a gallery image with an installed model, tile by tile, into the gallery',
    async () => {
      await openConnected(page, server.server.url);
      await page.goto(`${server.server.url}/#/gallery`);
      await page.locator('[data-testid="gallery-item"]').first().click();
      await page.locator('[data-testid="viewer-upscale"]').click();
      const picker = page.locator('[data-testid="upscale-upscaler"]');
      await expect.poll(() => picker.locator('option').allInnerTexts(), { timeout: 30_000 }).toEqual(['Lanczos', 'Nearest', 'compact_x4']);
      await picker.selectOption('compact_x4.pth');
      await page.locator('[data-testid="upscale-scale"]').fill('2');
      await page.locator('[data-testid="upscale-scale"]').dispatchEvent('change');
      await page.locator('[data-testid="upscale-tile"]').fill('16');
      await page.locator('[data-testid="upscale-tile"]').dispatchEvent('change');
      await page.screenshot({ path: join(SCREENSHOTS_DIR, 'upscale-dialog-phone.png') });
      await page.locator('[data-testid="upscale-start"]').click();
      // 64×64 with 16/8 tiles: ceil(56/8) = 7 columns × 7 rows.
      await expect.poll(() => page.locator('[data-testid="upscale-status"]').innerText(), { timeout: 120_000 }).toContain('Done');
      expect(await page.locator('[data-testid="upscale-progress"]').getAttribute('aria-valuemax')).toBe('49');
      expect(await page.locator('[data-testid="upscale-progress"]').getAttribute('aria-valuenow')).toBe('49');
      await expect.poll(() => page.locator('[data-testid="upscale-size"]').innerText()).toBe('128×128');
      await page.locator('[data-testid="upscale-result"]').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS_DIR, 'upscale-done-phone.png') });
      const upscaled = server.server.gallery.list({ limit: 10 }).items.filter((i) => i.task === 'upscale');
      expect(upscaled.map((i) => [i.width, i.height, i.prompt])).toEqual([[128, 128, 'a lighthouse to upscale']]);
      // The choices are remembered for the next image.
      await page.reload();
      await openConnected(page, server.server.url);
      await page.goto(`${server.server.url}/#/gallery`);
      await page.locator('[data-testid="gallery-item"]').first().click();
      await page.locator('[data-testid="viewer-upscale"]').click();
      await expect.poll(() => page.locator('[data-testid="upscale-tile"]').inputValue()).toBe('16');
      await expect.poll(() => picker.inputValue(), { timeout: 30_000 }).toBe('compact_x4.pth');
    },
    SLOW,
  );
});

// The ControlNet tab in the PWA against the real server, with the engine double reporting the
// controlnet capability and running the real model-free preprocessors: the tab appears with the
// capability, a phone-sized screen picks a control image from files, previews its canny edges (equal
// to the fixture's), chooses the ControlNet model and generates; the job carries the unit.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../native/testing/fixtures.js';
import { openConnected } from './browser-steps.js';
import { startBrowserRig, startWebServer, type BrowserRig, type WebTestServer } from './harness.js';

const SLOW = 240_000;
const CTL = fixturePath('sd1-controlnet', 'ctl_shapes_64x64.png');
let rig: BrowserRig;
let web: WebTestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig();
  web = await startWebServer(rig.dist, {
    fakeEngine: true,
    stepMs: 20,
    fakeEnv: { FAKE_CONTROLNET: '1' },
    beforeStart: async (dataDir) => {
      mkdirSync(join(dataDir, 'models', 'controlnet'), { recursive: true });
      copyFileSync(fixturePath('sd1-controlnet', 'control_tiny_canny.safetensors'), join(dataDir, 'models', 'controlnet', 'control_tiny_canny.safetensors'));
    },
  });
  const ctx = await rig.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  page = await ctx.newPage();
}, SLOW);

afterAll(async () => {
  await rig?.close();
  await web?.dispose();
});

async function slide(testId: string, value: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"]`).fill(value);
  await page.locator(`[data-testid="${testId}"]`).dispatchEvent('change');
}

describe('the ControlNet tab', () => {
  it(
    'shows with the capability, previews canny edges of a picked image, and generates with the unit',
    async () => {
      await openConnected(page, web.server.url);
      await page.locator('nav a[data-tab="controlnet"]').click();
      await page.locator('[data-testid="cn-card"]').waitFor();

      // Fits a phone: nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.locator('[data-testid="cn-file-input"]').setInputFiles(CTL);
      await page.locator('[data-testid="cn-image"]').waitFor();
      expect(await page.locator('[data-testid="cn-enable"]').isChecked()).toBe(true);

      // Modules come from the server: canny is offered, depth is listed but disabled with its reason.
      await expect.poll(() => page.locator('[data-testid="cn-module"] option[value="canny"]').count(), { timeout: 30_000 }).toBe(1);
      expect(await page.locator('[data-testid="cn-module"] option[value="depth"]').isDisabled()).toBe(true);
      await page.locator('[data-testid="cn-module"]').selectOption('canny');
      await slide('cn-processor-res', '64');
      await slide('cn-threshold-a', '100');
      await slide('cn-threshold-b', '200');

      // The bottom bar is within a thumb's reach and its buttons are big enough to hit.
      const box = (await page.locator('[data-testid="cn-preview-button"]').boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(44);
      expect(box.y).toBeGreaterThan(844 / 2);

      await page.locator('[data-testid="cn-preview-button"]').click();
      await page.locator('[data-testid="cn-preview"]').waitFor();
      const src = await page.locator('[data-testid="cn-preview"]').evaluate(async (img: HTMLImageElement) => {
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        c.getContext('2d')!.drawImage(img, 0, 0);
        return c.toDataURL('image/png');
      });
      const got = await sharp(Buffer.from(src.split(',')[1]!, 'base64')).removeAlpha().raw().toBuffer();
      const want = await sharp(readFileSync(fixturePath('sd1-controlnet', 'canny_balanced_u0_detected_raw.png'))).removeAlpha().raw().toBuffer();
      expect(got.equals(want)).toBe(true);

      // The model list holds the ControlNet file (its family matches the default checkpoint's: unknown here).
      await expect.poll(() => page.locator('[data-testid="cn-model"] option[value="control_tiny_canny.safetensors"]').count(), { timeout: 30_000 }).toBe(1);
      await page.locator('[data-testid="cn-model"]').selectOption('control_tiny_canny.safetensors');
      await slide('cn-weight', '0.6');

      await page.locator('[data-testid="cn-generate"]').click();
      await expect.poll(() => page.locator('[data-testid="job-status"]').innerText(), { timeout: 120_000 }).toContain('Done');
      const clientId = await page.evaluate(() => localStorage.getItem('easel.clientId'));
      const job = web.server.queue.recentFor(clientId!).find((j) => j.kind === 'generate')!;
      expect(job.params.controlnet).toEqual([
        expect.objectContaining({ module: 'canny', model: 'control_tiny_canny.safetensors', weight: 0.6, processor_res: 64, threshold_a: 100, threshold_b: 200, resize_mode: 'Crop and Resize' }),
      ]);

      // Kept with the other settings: a reload brings the unit back.
      await page.reload();
      await page.locator('nav a[data-tab="controlnet"]').click();
      await page.locator('[data-testid="cn-card"]').waitFor();
      await page.locator('[data-testid="cn-image"]').waitFor();
      expect(await page.locator('[data-testid="cn-model"]').inputValue()).toBe('control_tiny_canny.safetensors');
    },
    SLOW,
  );
});

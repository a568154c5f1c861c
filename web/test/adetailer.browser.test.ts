// ADetailer in the PWA against the real server and the real engine worker (the shared tiny SD1
// checkpoint and the yolo-tiny face detector in models/detectors): the Generate tab's ADetailer
// section (detector list from the server, prompt, confidence, "More" with the noise multiplier and
// the disabled "Restore faces" with its reason), a generation whose saved
// infotext carries the extension's fields and whose last preview is the detection preview, then
// "Fix faces/hands" on the gallery image, which queues an adetailer job and adds its result.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../native/testing/fixtures.js';
import { RESTORE_FACE_UNAVAILABLE } from '../../native/adetailer/args.js';
import { openConnected } from './browser-steps.js';
import { installTinyCheckpoint, startBrowserRig, startWebServer, TINY_MODEL, type BrowserRig, type WebTestServer } from './harness.js';

const SLOW = 240_000;
let rig: BrowserRig;
let web: WebTestServer;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig();
  web = await startWebServer(rig.dist, {
    fakeEngine: false,
    beforeStart: async (dataDir) => {
      installTinyCheckpoint(dataDir);
      mkdirSync(join(dataDir, 'models', 'detectors'), { recursive: true });
      copyFileSync(fixturePath('yolo-tiny', 'face_tiny.pt'), join(dataDir, 'models', 'detectors', 'face_tiny.pt'));
    },
  });
  const ctx = await rig.newContext({ viewport: { width: 390, height: 844 } });
  page = await ctx.newPage();
}, SLOW);

afterAll(async () => {
  await rig?.close();
  await web?.dispose();
});

async function setNumber(selector: string, value: string): Promise<void> {
  await page.locator(selector).fill(value);
  await page.locator(selector).dispatchEvent('change');
}

describe('ADetailer in the PWA', () => {
  it(
    'generates with the ADetailer section on, then fixes the gallery image with "Fix faces/hands"',
    async () => {
      await openConnected(page, web.server.url);
      await expect.poll(() => page.locator(`#f-model option[value="${TINY_MODEL}"]`).count(), { timeout: 30_000 }).toBe(1);
      await page.locator('#f-model').selectOption(TINY_MODEL);
      await page.locator('easel-prompt-field[name="prompt"] textarea').fill('a portrait photo');
      await page.getByRole('button', { name: 'Custom' }).click();
      for (const [id, value] of [['#f-width', '96'], ['#f-height', '64'], ['#f-steps', '3'], ['#f-seed', '7']] as const) await setNumber(id, value);

      await page.locator('[data-testid="ad-enable"]').check();
      await expect.poll(() => page.locator('[data-testid="ad-model"] option[value="face_tiny.pt"]').count(), { timeout: 30_000 }).toBe(1);
      await page.locator('[data-testid="ad-model"]').selectOption('face_tiny.pt');
      await page.locator('[data-testid="ad-prompt"]').fill('a detailed face');
      await page.locator('[data-testid="ad-prompt"]').dispatchEvent('change');
      // out of range: refused in the form, nothing is queued
      await setNumber('[data-testid="ad-confidence"]', '2');
      await page.locator('[data-testid="generate"]').click();
      await page.locator('[data-testid="ad-error-ad_confidence"]').waitFor();
      await setNumber('[data-testid="ad-confidence"]', '0.05');
      await page.getByText('More', { exact: true }).click();
      await setNumber('#ad-ad_mask_k', '1');
      await page.locator('[data-testid="ad-use-noise-multiplier"]').check();
      await setNumber('#ad-ad_noise_multiplier', '0.75');
      // ADetailer's "Restore faces" is shown, switched off, with the reason the server would give.
      expect(await page.locator('[data-testid="ad-restore-face"]').isDisabled()).toBe(true);
      expect(await page.locator('[data-testid="ad-restore-face-reason"]').innerText()).toContain(RESTORE_FACE_UNAVAILABLE);

      await page.locator('[data-testid="generate"]').click();
      await expect.poll(() => page.locator('[data-testid="job-status"]').innerText(), { timeout: 150_000 }).toContain('Done');
      await page.locator('[data-testid="preview"] img').waitFor();
      const first = web.server.gallery.list({ limit: 10 } as Parameters<typeof web.server.gallery.list>[0]).items;
      expect(first).toHaveLength(1);
      expect(first[0].infotext).toContain('ADetailer model: face_tiny.pt, ADetailer prompt: a detailed face, ADetailer confidence: 0.05');
      expect(first[0].infotext).toContain('ADetailer use separate noise multiplier: True, ADetailer noise multiplier: 0.75');

      await page.goto(`${web.server.url}/#/gallery`);
      await page.locator('[data-testid="gallery-item"]').first().click();
      await page.locator('[data-testid="fix-faces"]').click();
      await expect.poll(() => page.locator('[data-testid="job-status"]').innerText(), { timeout: 150_000 }).toContain('Done');
      await page.locator('[data-testid="preview"] img').waitFor();
      const after = web.server.gallery.list({ limit: 10 } as Parameters<typeof web.server.gallery.list>[0]).items;
      expect(after).toHaveLength(2);
      const fixed = after.find((i) => i.task === 'adetailer');
      expect(fixed?.prompt).toBe('a portrait photo');
      expect(fixed?.infotext).toContain('ADetailer model: face_tiny.pt');
    },
    SLOW,
  );
});

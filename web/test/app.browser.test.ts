// Browser tests: the built PWA in Debian's Chromium (playwright-core) against the real server
// (server/server.ts) on 127.0.0.1, port 0, with a temp DATA_DIR and a fixed token. The main server
// runs the server's engine test double (real IPC, real preview JPEGs and PNGs, no model) so the
// whole generate → preview → progress → result → gallery path runs at an observable pace; a second
// server runs the real engine worker: first with no model installed (its refusal must reach the
// user), then with the shared tiny SD1 checkpoint, generating a real image end to end.
// Screenshots of every tab at phone and desktop size go to screenshots/ (git-ignored).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { visibleTabs } from '../src/app/routes.js';
import { openConnected, waitConnected } from './browser-steps.js';
import {
  installTaggedLora,
  installTinyCheckpoint,
  SCREENSHOTS_DIR,
  seedGallery,
  startBrowserRig,
  startWebServer,
  TEST_TOKEN,
  TINY_MODEL,
  type BrowserRig,
  type WebTestServer,
} from './harness.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** Every step takes this long in the engine double, so progress and previews are observable. */
const FAKE_STEP_MS = 250;
const SLOW = 180_000;

let rig: BrowserRig;
let main: WebTestServer;
let noEngine: WebTestServer;
/** One context (one browser profile) shared by the tests that build on each other's state. */
let ctx: BrowserContext;
let page: Page;

const SEEDED = [
  ...['a red fox in the snow', 'fox cub sleeping', 'arctic fox portrait', 'fox and hound', 'a fox in a forest'].map((prompt) => ({ prompt })),
  ...['blue whale breaching', 'whale song', 'humpback whale at dawn', 'whale shark'].map((prompt) => ({ prompt, task: 'img2img' })),
  ...['castle on a hill', 'city at night', 'portrait of an astronaut', 'bowl of fruit', 'mountain lake', 'desert road'].map((prompt) => ({ prompt })),
];

async function galleryCount(p: Page): Promise<number> {
  const text = await p.locator('[data-testid="gallery-status"]').innerText();
  return Number(/^(\d+)/.exec(text.trim())?.[1] ?? -1);
}

async function noHorizontalScroll(p: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return p.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

beforeAll(async () => {
  rig = await startBrowserRig();
  [main, noEngine] = await Promise.all([
    startWebServer(rig.dist, { fakeEngine: true, stepMs: FAKE_STEP_MS }),
    startWebServer(rig.dist, { fakeEngine: false }),
  ]);
  await seedGallery(main.server, SEEDED);
  // The CI machine is shared and slow: the rig's contexts wait generously; never fixed sleeps as assertions.
  ctx = await rig.newContext({ viewport: PHONE });
  page = await ctx.newPage();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await main?.dispose();
  await noEngine?.dispose();
}, 120_000);

describe.sequential('Easel PWA in Chromium', () => {
  it(
    'connects once the token is set in Settings',
    async () => {
      await page.goto(`${main.server.url}/#/settings`);
      await expect.poll(() => page.locator('easel-connection-status button').innerText(), { timeout: 30_000 }).toContain('Not set up');
      await expect.poll(() => page.locator('[data-testid="server-url"]').inputValue()).toBe(main.server.url);
      await page.locator('[data-testid="server-token"]').fill(TEST_TOKEN);
      await page.locator('[data-testid="test-connection"]').click();
      await expect.poll(() => page.locator('[data-testid="test-result"]').innerText(), { timeout: 30_000 }).toContain('Connected');
      await page.locator('[data-testid="save-server"]').click();
      await waitConnected(page);
    },
    SLOW,
  );

  it(
    'generates with live preview and progress, and finds the result in the gallery',
    async () => {
      await page.goto(`${main.server.url}/#/generate`);
      await waitConnected(page);
      const prompt = page.locator('easel-prompt-field[name="prompt"] textarea');
      await prompt.fill('a lighthouse at dusk, dramatic sky');
      await expect.poll(() => page.locator('[data-testid="token-count-prompt"]').innerText()).toMatch(/^≈?\d+\/75/);
      await page.locator('#f-steps').fill('8');
      await page.locator('#f-steps').dispatchEvent('change');
      await page.locator('[data-testid="generate"]').click();
      // Mid-run: a preview image and a progress bar that has moved.
      await page.locator('[data-testid="preview"] img').waitFor({ timeout: 60_000 });
      await expect.poll(async () => Number(await page.locator('[data-testid="progress"]').getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.locator('[data-testid="job-status"]').innerText(), { timeout: 60_000 }).toContain('Done');
      await page.locator('[data-testid="results"] img').first().waitFor();

      await page.goto(`${main.server.url}/#/gallery`);
      await page.locator('[data-testid="gallery-search"]').fill('lighthouse');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
      await page.locator('[data-testid="gallery-item"]').first().click();
      await expect.poll(() => page.locator('[data-testid="viewer-prompt"]').innerText()).toContain('a lighthouse at dusk');
      // This engine has no controlnet capability: the viewer offers no ControlNet button.
      expect(await page.locator('[data-testid="viewer-controlnet"]').count()).toBe(0);
      await page.keyboard.press('Escape');
    },
    SLOW,
  );

  it(
    'lists the registry\'s VAEs and LoRA trigger words as the files arrive, and shares the VAE with the Inpaint tab',
    async () => {
      await page.goto(`${main.server.url}/#/generate`);
      await waitConnected(page);
      const vae = page.locator('#f-vae');
      await expect.poll(() => vae.locator('option').allInnerTexts()).toEqual(['Automatic', 'None']);
      expect(await vae.inputValue()).toBe('');

      // Files that appear while the app is open: the registry's watcher announces models:changed.
      mkdirSync(join(main.dataDir, 'models', 'vae'), { recursive: true });
      copyFileSync(sd1TinyPath('vae.safetensors'), join(main.dataDir, 'models', 'vae', 'test-vae.safetensors'));
      installTaggedLora(main.dataDir, 'ink-style.safetensors', 'inkstyle', { brush: 2, 'sumi-e': 5, inkstyle: 1 });
      await expect.poll(() => vae.locator('option').allInnerTexts(), { timeout: 30_000 }).toEqual(['Automatic', 'None', 'test-vae.safetensors']);
      await vae.selectOption('test-vae.safetensors');

      const slots = page.locator('easel-lora-slots');
      await slots.getByRole('button', { name: '+ Add LoRA' }).click();
      await slots.getByLabel('LoRA 1', { exact: true }).selectOption('ink-style.safetensors');
      // The declared trigger phrase first, then the training tags by count.
      await expect.poll(() => slots.locator('.words button').allInnerTexts(), { timeout: 30_000 }).toEqual(['inkstyle', 'sumi-e', 'brush']);
      const prompt = page.locator('easel-prompt-field[name="prompt"] textarea');
      await prompt.fill('a heron');
      await slots.getByRole('button', { name: 'sumi-e' }).click();
      await expect.poll(() => prompt.inputValue()).toBe('a heron, sumi-e');

      // The VAE is a shared parameter: the Inpaint tab shows the same choice, and a change there shows here.
      await page.goto(`${main.server.url}/#/inpaint`);
      await page.locator('easel-inpaint-form summary').click();
      await expect.poll(() => page.locator('#i-vae').inputValue()).toBe('test-vae.safetensors');
      await page.locator('#i-vae').selectOption('None');
      await page.goto(`${main.server.url}/#/generate`);
      await expect.poll(() => vae.inputValue()).toBe('None');

      await vae.selectOption('');
      await slots.getByRole('button', { name: 'Remove LoRA 1' }).click();
      await prompt.fill('');
    },
    SLOW,
  );

  it(
    'filters by task and favorites and searches prompts',
    async () => {
      await page.goto(`${main.server.url}/#/gallery`);
      await page.reload();
      await waitConnected(page);
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(SEEDED.length + 1);
      await page.locator('[data-testid="gallery-search"]').fill('fox');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(5);
      await page.locator('[data-testid="gallery-search"]').fill('');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(SEEDED.length + 1);
      await page.locator('[data-testid="gallery-task"]').selectOption('img2img');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(4);
      await page.locator('[data-testid="gallery-task"]').selectOption('');
      // Favorite one whale online, then the favorites filter shows exactly it.
      await page.locator('[data-testid="gallery-search"]').fill('humpback');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
      const id = await page.locator('[data-testid="gallery-item"]').first().getAttribute('data-id');
      await page.locator('[data-testid="gallery-item"]').first().click();
      await page.locator('[data-testid="viewer-favorite"]').click();
      await expect.poll(() => main.server.gallery.get(id!)?.favorite, { timeout: 30_000 }).toBe(true);
      await page.keyboard.press('Escape');
      await page.locator('[data-testid="gallery-search"]').fill('');
      await page.locator('[data-testid="gallery-favorites"]').click();
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
      await page.locator('[data-testid="gallery-favorites"]').click();
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(SEEDED.length + 1);
    },
    SLOW,
  );

  it(
    'opens the cached gallery offline and replays an offline favorite on reconnect',
    async () => {
      // The service worker must control the page before the network goes away.
      await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 60_000 }).toBe(true);
      // Let the thumbnails of the first screen reach IndexedDB.
      await expect.poll(() => page.locator('easel-gallery-thumb img').count(), { timeout: 60_000 }).toBeGreaterThan(3);

      await ctx.setOffline(true);
      await page.reload();
      await page.locator('[data-testid="offline-badge"]').waitFor({ timeout: 60_000 });
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(SEEDED.length + 1);
      expect(await page.locator('easel-connection-status button').innerText()).not.toContain('Connected');
      await expect.poll(() => page.locator('easel-gallery-thumb img').count(), { timeout: 30_000 }).toBeGreaterThan(0);

      await page.locator('[data-testid="gallery-search"]').fill('castle');
      await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBe(1);
      const id = (await page.locator('[data-testid="gallery-item"]').first().getAttribute('data-id'))!;
      expect(main.server.gallery.get(id)?.favorite).toBe(false);
      await page.locator('[data-testid="gallery-item"]').first().click();
      await page.locator('[data-testid="viewer-favorite"]').click();
      await expect.poll(() => page.locator('[data-testid="gallery-status"]').innerText()).toContain('1 change waiting');
      await page.keyboard.press('Escape');
      expect(main.server.gallery.get(id)?.favorite).toBe(false);

      await ctx.setOffline(false);
      await waitConnected(page);
      await expect.poll(() => main.server.gallery.get(id)?.favorite, { timeout: 30_000 }).toBe(true);
      await expect.poll(() => page.locator('[data-testid="gallery-status"]').innerText(), { timeout: 30_000 }).not.toContain('waiting');
    },
    SLOW,
  );

  it(
    'remembers the theme across reloads',
    async () => {
      await page.goto(`${main.server.url}/#/settings`);
      await page.locator('[data-testid="theme-light"]').click();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
      const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.reload();
      await page.locator('[data-testid="theme-light"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
      expect(await page.locator('[data-testid="theme-light"]').getAttribute('aria-pressed')).toBe('true');
      await page.locator('[data-testid="theme-dark"]').click();
      await page.reload();
      await page.locator('[data-testid="theme-dark"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe(lightBg);
    },
    SLOW,
  );

  it(
    'shows the real engine\'s error clearly when it cannot run the job',
    async () => {
      const other = await rig.newContext({ viewport: PHONE });
      try {
        const p = await other.newPage();
        await openConnected(p, noEngine.server.url);
        expect(p.url()).not.toContain(TEST_TOKEN);
        await p.locator('easel-prompt-field[name="prompt"] textarea').fill('a cat');
        // Record every toast as it appears: an error toast is dismissed after a few seconds, and a
        // slow machine may poll less often than that.
        await p.evaluate(() => {
          const w = window as unknown as { seenToasts: string[] };
          w.seenToasts = [];
          const root = document.querySelector('easel-app')!.shadowRoot!.querySelector('easel-toast-stack')!.shadowRoot!;
          new MutationObserver(() => {
            for (const t of root.querySelectorAll('.toast')) if (!w.seenToasts.includes(t.textContent ?? '')) w.seenToasts.push(t.textContent ?? '');
          }).observe(root, { childList: true, subtree: true, characterData: true });
        });
        await p.locator('[data-testid="generate"]').click();
        await expect.poll(() => p.locator('[data-testid="job-status"]').innerText(), { timeout: 60_000 }).toContain('Failed');
        // Builds without pipelines answer engine_unavailable; with the engine, an empty models
        // folder means no checkpoint. Either way the reason is shown, in the card and as a toast.
        const reason = /engine is not available|no checkpoint/i;
        const shown = await p.locator('easel-job-progress .error-text').innerText();
        expect(shown).toMatch(reason);
        await expect.poll(() => p.evaluate(() => (window as unknown as { seenToasts: string[] }).seenToasts.join('\n'))).toMatch(reason);
      } finally {
        await other.close();
      }
    },
    SLOW,
  );

  it(
    'generates a real image with the engine and the tiny checkpoint',
    async () => {
      installTinyCheckpoint(noEngine.dataDir);
      const other = await rig.newContext({ viewport: DESKTOP });
      try {
        const p = await other.newPage();
        await openConnected(p, noEngine.server.url);
        // The model list comes from /api/info once connected.
        await expect.poll(() => p.locator(`#f-model option[value="${TINY_MODEL}"]`).count(), { timeout: 30_000 }).toBe(1);
        await p.locator('#f-model').selectOption(TINY_MODEL);
        await p.locator('easel-prompt-field[name="prompt"] textarea').fill('a small red house');
        await p.getByRole('button', { name: 'Custom' }).click();
        for (const [id, value] of [['#f-width', '64'], ['#f-height', '64'], ['#f-steps', '4'], ['#f-seed', '7']] as const) {
          await p.locator(id).fill(value);
          await p.locator(id).dispatchEvent('change');
        }
        await p.locator('[data-testid="generate"]').click();
        await expect.poll(() => p.locator('[data-testid="job-status"]').innerText(), { timeout: 120_000 }).toContain('Done');
        // The last preview stays on screen after completion: previews were received.
        await p.locator('[data-testid="preview"] img').waitFor();
        expect(await p.locator('[data-testid="progress"]').getAttribute('aria-valuenow')).toBe('4');
        const result = p.locator('[data-testid="results"] img').first();
        await expect.poll(() => result.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBe(64);

        const page1 = noEngine.server.gallery.list({ limit: 10 } as Parameters<typeof noEngine.server.gallery.list>[0]);
        const made = page1.items.find((i) => i.prompt === 'a small red house');
        expect(made).toMatchObject({ seed: 7, width: 64, height: 64 });
        expect(made?.model).toMatch(/^sd1-tiny/);
        await p.goto(`${noEngine.server.url}/#/gallery`);
        await expect.poll(() => galleryCount(p), { timeout: 30_000 }).toBe(1);
      } finally {
        await other.close();
      }
    },
    SLOW,
  );

  for (const viewport of [PHONE, DESKTOP]) {
    it(
      `lays out every tab at ${viewport.width}×${viewport.height} without horizontal scrolling (screenshots)`,
      async () => {
        await page.setViewportSize(viewport);
        // The tabs the engine double's capabilities give (no ControlNet tab until it works).
        for (const tab of visibleTabs({ generate: true, upscale: false, adetailer: false })) {
          await page.goto(`${main.server.url}/#/${tab}`);
          await page.locator(`section[data-panel="${tab}"]`).waitFor();
          if (tab === 'gallery') await expect.poll(() => galleryCount(page), { timeout: 30_000 }).toBeGreaterThan(0);
          await page.waitForTimeout(300);
          const { scrollWidth, innerWidth } = await noHorizontalScroll(page);
          expect(scrollWidth, `${tab} at ${viewport.width}px`).toBeLessThanOrEqual(innerWidth);
          await page.screenshot({ path: join(SCREENSHOTS_DIR, `${tab}-${viewport.width}x${viewport.height}.png`) });
        }
        // Touch targets: every tab link and button in the shell is at least 44 px tall.
        const heights = await page.evaluate(() => {
          const app = document.querySelector('easel-app')!.shadowRoot!;
          return [...app.querySelectorAll('nav a, header button')].map((el) => el.getBoundingClientRect().height).filter((h) => h > 0);
        });
        expect(heights.length).toBeGreaterThan(4);
        for (const h of heights) expect(h).toBeGreaterThanOrEqual(44);
      },
      SLOW,
    );
  }
});

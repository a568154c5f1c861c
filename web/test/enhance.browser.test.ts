// The ✨ button in Chromium at phone size, against the real server and engine worker with the tiny
// GPT-2 (gpt2-tiny fixture) installed as a prompt expander: suggestions stream into the list, "Use"
// replaces the prompt, "Append" adds to it, and Settings lists the expander to pick.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkTinyExpander } from '../../native/lm/testing/tiny-expander.js';
import { openConnected } from './browser-steps.js';
import { SCREENSHOTS_DIR, startBrowserRig, startWebServer, type BrowserRig, type WebTestServer } from './harness.js';

let rig: BrowserRig;
let web: WebTestServer;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig();
  web = await startWebServer(rig.dist, { fakeEngine: false, beforeStart: async (dataDir) => void linkTinyExpander(join(dataDir, 'models'), 'tiny-gpt2') });
  ctx = await rig.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  page = await ctx.newPage();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await web?.dispose();
}, 120_000);

describe('✨ prompt enhancement in Chromium (phone)', () => {
  it(
    'streams three suggestions; Use replaces the prompt and Append extends it',
    async () => {
      await openConnected(page, web.server.url);
      await page.goto(`${web.server.url}/#/generate`);
      const prompt = page.locator('easel-prompt-field[name="prompt"] textarea');
      await prompt.fill('a cat in the rain');
      await page.locator('[data-testid="enhance"]').tap();
      const items = page.locator('[data-testid="enhance-suggestion"]');
      await expect.poll(() => items.count(), { timeout: 120_000 }).toBe(3);
      // finished: the buttons are enabled once the ack arrives
      await expect.poll(() => page.locator('[data-testid="enhance-use"]').first().isEnabled(), { timeout: 120_000 }).toBe(true);
      const texts = await items.locator('.text').allInnerTexts();
      expect(texts.every((t) => t.startsWith('a cat in the rain') && t.length > 'a cat in the rain'.length)).toBe(true);
      await page.screenshot({ path: join(SCREENSHOTS_DIR, 'enhance-phone.png'), fullPage: true });

      await page.locator('[data-testid="enhance-use"]').nth(1).tap();
      await expect.poll(() => prompt.inputValue()).toBe(texts[1]);

      await prompt.fill('a cat in the rain');
      await page.locator('[data-testid="enhance-append"]').first().tap();
      const appended = await prompt.inputValue();
      expect(appended.startsWith('a cat in the rain, ')).toBe(true);
      expect(appended.length).toBeGreaterThan('a cat in the rain, '.length);

      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    },
    300_000,
  );

  it(
    'lists the installed expander in Settings and remembers the choice',
    async () => {
      await page.goto(`${web.server.url}/#/settings`);
      const select = page.locator('[data-testid="expander-model"]');
      await expect.poll(() => select.locator('option').allInnerTexts(), { timeout: 30_000 }).toEqual(['Server default', 'tiny-gpt2']);
      await select.selectOption('tiny-gpt2');
      expect(await page.evaluate(() => localStorage.getItem('easel.enhanceModel'))).toBe('tiny-gpt2');
    },
    120_000,
  );
});

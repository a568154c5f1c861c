// Browser test of the hires fix controls: the built PWA in Chromium against the real server with the
// real engine worker and the shared tiny SD1 checkpoint. The section is collapsed by default; opened
// and filled in, it sends `hires` with the job and the result comes back at the hires size; after a
// reload the section is still open with its values (remembered with the form); "Use these
// parameters" on the result restores the hires fix and the first-pass size.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInfotext } from '../../server/infotext/index.js';
import { openConnected } from './browser-steps.js';
import { installTinyCheckpoint, startBrowserRig, startWebServer, TINY_MODEL, type BrowserRig, type WebTestServer } from './harness.js';

const SLOW = 240_000;
let rig: BrowserRig;
let web: WebTestServer;

beforeAll(async () => {
  rig = await startBrowserRig();
  web = await startWebServer(rig.dist, {
    fakeEngine: false,
    beforeStart: async (dataDir) => {
      installTinyCheckpoint(dataDir);
      mkdirSync(join(dataDir, 'models', 'upscalers'), { recursive: true });
    },
  });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await web?.dispose();
}, 120_000);

const isOpen = (p: Page) => p.locator('[data-testid="hires"]').evaluate((d: HTMLDetailsElement) => d.open);

async function setValue(p: Page, selector: string, value: string): Promise<void> {
  await p.locator(selector).fill(value);
  await p.locator(selector).dispatchEvent('change');
}

describe('hires fix in the Generate tab', () => {
  it(
    'is collapsed by default, sends hires, returns the upscaled image, and is remembered after a reload',
    async () => {
      const ctx = await rig.newContext({ viewport: { width: 390, height: 844 } });
      try {
        const p = await ctx.newPage();
        await openConnected(p, web.server.url);
        await p.goto(`${web.server.url}/#/generate`);
        await expect.poll(() => p.locator(`#f-model option[value="${TINY_MODEL}"]`).count(), { timeout: 30_000 }).toBe(1);
        await p.locator('#f-model').selectOption(TINY_MODEL);
        await p.locator('easel-prompt-field[name="prompt"] textarea').fill('a lighthouse, hires');
        await p.getByRole('button', { name: 'Custom' }).click();
        for (const [id, value] of [['#f-width', '64'], ['#f-height', '64'], ['#f-steps', '2'], ['#f-seed', '5']] as const) await setValue(p, id, value);

        expect(await isOpen(p)).toBe(false);
        await p.locator('[data-testid="hires"] summary').click();
        await expect.poll(() => isOpen(p)).toBe(true);
        await p.locator('[data-testid="hires-enabled"]').check();
        await p.locator('#hr-upscaler').selectOption('Latent (bicubic antialiased)');
        await setValue(p, '#hr-scale', '1.5');
        await setValue(p, '#hr-steps', '2');
        await setValue(p, '#hr-denoising_strength', '0.6');
        await p.locator('#hr-sampler').selectOption('euler');
        await expect.poll(() => p.locator('[data-testid="hires-summary"]').innerText()).toContain('96×96');

        await p.locator('[data-testid="generate"]').click();
        await expect.poll(() => p.locator('[data-testid="job-status"]').innerText(), { timeout: 180_000 }).toContain('Done');
        // Two passes of two steps each.
        expect(await p.locator('[data-testid="progress"]').getAttribute('aria-valuemax')).toBe('4');
        const result = p.locator('[data-testid="results"] img').first();
        // The results are below the (long) form on a phone and load lazily.
        await result.scrollIntoViewIfNeeded();
        await expect.poll(() => result.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBe(96);
        const made = web.server.gallery.list({ limit: 10 } as Parameters<typeof web.server.gallery.list>[0]).items.find((i) => i.prompt === 'a lighthouse, hires');
        expect(made).toMatchObject({ width: 96, height: 96, seed: 5 });
        expect(parseInfotext(made!.infotext).hires).toMatchObject({ scale: 1.5, steps: 2, upscaler: 'Latent (bicubic antialiased)', denoising_strength: 0.6, sampler: 'euler' });

        await p.reload();
        await expect.poll(() => isOpen(p), { timeout: 30_000 }).toBe(true);
        expect(await p.locator('[data-testid="hires-enabled"]').isChecked()).toBe(true);
        expect(await p.locator('#hr-scale').inputValue()).toBe('1.5');
        expect(await p.locator('#hr-upscaler').inputValue()).toBe('Latent (bicubic antialiased)');
        // Closing is remembered too.
        await p.locator('[data-testid="hires-enabled"]').uncheck();
        await p.locator('[data-testid="hires"] summary').click();
        // <details> fires its toggle event (which saves the form) as a later task: reload only
        // once the closed state is stored, or the reload can race it.
        await expect.poll(() => p.evaluate(() => (JSON.parse(localStorage.getItem('easel.form') ?? '{}') as { hires?: { open?: boolean } }).hires?.open)).toBe(false);
        await p.reload();
        await p.locator('[data-testid="hires"]').waitFor({ timeout: 30_000 });
        expect(await isOpen(p)).toBe(false);

        // "Use these parameters" on the hires image: the first-pass size and the hires fix come back.
        await p.goto(`${web.server.url}/#/gallery`);
        await p.locator('[data-testid="gallery-item"]').first().click();
        await p.locator('[data-testid="use-params"]').click();
        await expect.poll(() => isOpen(p), { timeout: 30_000 }).toBe(true);
        expect(await p.locator('[data-testid="hires-enabled"]').isChecked()).toBe(true);
        expect(await p.locator('#hr-denoising_strength').inputValue()).toBe('0.6');
        await expect.poll(() => p.locator('[data-testid="hires-summary"]').innerText()).toContain('96×96');
      } finally {
        await ctx.close();
      }
    },
    SLOW,
  );
});

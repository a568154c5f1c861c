// Browser test of Drive backup: the built PWA in Debian's Chromium, served by the real server
// whose Drive API and OAuth token endpoint are the local fake (server/drive/test/fake-drive.ts).
// Settings → Connect opens Google's consent URL; the test plays Google (the fake issues a code
// for the PKCE challenge in that URL), pastes the redirect address, presses Finish, and the
// header indicator and the panel follow the sync that starts by itself; Restore adds nothing.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/server.js';
import { FakeDrive } from '../../server/drive/test/fake-drive.js';
import { CLIENT } from '../../server/drive/test/helpers.js';
import { openConnected } from './browser-steps.js';
import { SCREENSHOTS_DIR, seedGallery, startBrowserRig, startWebServer, type BrowserRig, type WebTestServer } from './harness.js';

const SLOW = 180_000;
let rig: BrowserRig;
let fake: FakeDrive;
let web: WebTestServer;
let server: RunningServer;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  rig = await startBrowserRig();
  fake = await new FakeDrive().start();
  web = await startWebServer(rig.dist, {
    fakeEngine: true,
    env: {
      DRIVE_CLIENT_ID: CLIENT.clientId,
      DRIVE_CLIENT_SECRET: CLIENT.clientSecret,
      DRIVE_API_ROOT: fake.url,
      DRIVE_TOKEN_URL: fake.tokenUrl,
      DRIVE_RETRY_BASE_MS: '1',
    },
  });
  server = web.server;
  await seedGallery(server, [{ prompt: 'a lighthouse on a cliff' }, { prompt: 'an oak tree' }]);
  ctx = await rig.newContext({ viewport: { width: 390, height: 844 } });
  page = await ctx.newPage();
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
}, 600_000);

afterAll(async () => {
  await rig?.close();
  await web?.dispose();
  await fake?.stop();
}, 120_000);

describe('Drive backup in Chromium', () => {
  it(
    'connects by pasting the redirect address, shows the sync in the header and the panel, restores nothing twice',
    async () => {
      await openConnected(page, server.url);
      await page.goto(`${server.url}/#/settings`);
      const panel = page.locator('easel-drive-panel');
      const indicator = page.locator('[data-testid="drive-status"]');
      await expect.poll(() => panel.locator('[data-testid="drive-state"]').innerText(), { timeout: 60_000 }).toContain('disconnected');
      await expect.poll(() => indicator.getAttribute('aria-label')).toContain('Not connected');

      // Connect opens a tab for Google's page; it cannot load here (no network) and is closed.
      const popup = ctx.waitForEvent('page');
      await panel.getByRole('button', { name: 'Connect' }).click();
      await (await popup).close();
      const consent = new URL((await panel.locator('a[href^="https://accounts.google.com/"]').getAttribute('href'))!);
      expect(consent.searchParams.get('client_id')).toBe(CLIENT.clientId);
      const code = fake.issueCode(consent.searchParams.get('code_challenge')!);

      const finish = panel.getByRole('button', { name: 'Finish' });
      expect(await finish.isDisabled()).toBe(true);
      await panel.getByRole('textbox').fill(`http://localhost/?state=${consent.searchParams.get('state')}&code=${encodeURIComponent(code)}&scope=drive.file`);
      await finish.click();

      // Connecting starts a sync: both seeded images end up on Drive.
      await expect.poll(() => indicator.getAttribute('aria-label'), { timeout: 30_000 }).toContain('Backed up');
      await expect.poll(() => panel.locator('[data-testid="drive-state"]').innerText()).toContain('connected');
      expect(fake.uploads()).toHaveLength(2);
      expect(await panel.locator('[data-testid="drive-summary"]').innerText()).toBe('Everything is on Drive; last sync just now.');
      await page.screenshot({ path: join(SCREENSHOTS_DIR, 'settings-drive-390x844.png'), fullPage: true });

      await panel.getByRole('button', { name: 'Restore from Drive' }).click();
      await expect.poll(() => panel.locator('[data-testid="drive-details"]').innerText(), { timeout: 30_000 }).toContain('completed: 2 of 2 checked, 0 added');

      await panel.getByRole('button', { name: 'Disconnect' }).click();
      await expect.poll(() => indicator.getAttribute('aria-label')).toContain('Not connected');
      expect(await panel.getByRole('button', { name: 'Connect' }).isVisible()).toBe(true);
    },
    SLOW,
  );
});

// Browser test of Drive backup: the built PWA in Debian's Chromium, served by the real server
// whose Drive API and OAuth token endpoint are the local fake (server/drive/test/fake-drive.ts).
// Settings → Connect opens Google's consent URL; the test plays Google (the fake issues a code
// for the PKCE challenge in that URL), pastes the redirect address, presses Finish, and the
// header indicator and the panel follow the sync that starts by itself; Restore adds nothing.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { FakeDrive } from '../../server/drive/test/fake-drive.js';
import { CLIENT } from '../../server/drive/test/helpers.js';
import { buildWeb, FAKE_WORKER, launchChromium, requireChromium, SCREENSHOTS_DIR, seedGallery, tempWebDist, TEST_TOKEN } from './harness.js';

const SLOW = 180_000;
let dist = '';
let dataDir = '';
let fake: FakeDrive;
let server: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  requireChromium();
  dist = tempWebDist();
  buildWeb(dist);
  fake = await new FakeDrive().start();
  dataDir = mkdtempSync(join(tmpdir(), 'easel-drive-web-'));
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      MODELS_DIR: join(dataDir, 'models'),
      AUTH_TOKEN: TEST_TOKEN,
      WEB_DIST: dist,
      LOG_LEVEL: 'silent',
      CONN_RATE_LIMIT: '10000',
      REST_RATE_LIMIT: '100000',
      RATE_LIMIT_POINTS: '100000',
      DRIVE_CLIENT_ID: CLIENT.clientId,
      DRIVE_CLIENT_SECRET: CLIENT.clientSecret,
      DRIVE_API_ROOT: fake.url,
      DRIVE_TOKEN_URL: fake.tokenUrl,
      DRIVE_RETRY_BASE_MS: '1',
    }),
    { workerEntry: FAKE_WORKER },
  );
  await seedGallery(server, [{ prompt: 'a lighthouse on a cliff' }, { prompt: 'an oak tree' }]);
  browser = await launchChromium();
  ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  ctx.setDefaultTimeout(60_000);
  ctx.setDefaultNavigationTimeout(120_000);
  page = await ctx.newPage();
}, 600_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await server?.close();
  await fake?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (dist) rmSync(dist, { recursive: true, force: true });
}, 120_000);

describe('Drive backup in Chromium', () => {
  it(
    'connects by pasting the redirect address, shows the sync in the header and the panel, restores nothing twice',
    async () => {
      await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
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

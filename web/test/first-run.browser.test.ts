// First run in the browser: an empty models folder makes the app offer the starter catalog; one
// tap downloads a catalog entry from a local HTTPS server (the test's catalog points there) into
// models/checkpoints and the model lists show it; entries this server cannot run are marked and
// not offered; a job's phases appear under the progress bar in order; there is no ControlNet tab.
// The server runs the engine test double (real IPC, phases like the real engine's).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, globalAgent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnected } from './browser-steps.js';
import { REPO_ROOT, startBrowserRig, startWebServer, type BrowserRig, type WebTestServer } from './harness.js';

const TLS_DIR = join(REPO_ROOT, 'web', 'test', 'fixtures', 'tls');
const SLOW = 180_000;

/** A minimal valid .safetensors file (the registry lists it; the engine double never reads it). */
function tinySafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(16)]);
}

let rig: BrowserRig;
let web: WebTestServer;
let https: Server;
let ctx: BrowserContext;
let page: Page;
let catalogDir: string | undefined;
const payload = tinySafetensors();
const served: string[] = [];
const savedCa = globalAgent.options.ca;
const savedPhaseMs = process.env.FAKE_PHASE_MS;

beforeAll(async () => {
  const cert = readFileSync(join(TLS_DIR, 'cert.pem'));
  https = createServer({ cert, key: readFileSync(join(TLS_DIR, 'key.pem')) }, (req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/models/starter-tiny.safetensors') {
      res.writeHead(200, { 'content-length': String(payload.length), 'content-type': 'application/octet-stream' });
      res.end(payload);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const base = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  // The server runs in this process: its downloads go through https.globalAgent, which now trusts
  // the fixture certificate (and nothing changes for any other process).
  globalAgent.options.ca = cert;
  // Non-sampling phases of the engine double take this long, so each one is on screen a while.
  process.env.FAKE_PHASE_MS = '400';

  const common = { description: 'A test model.', license: 'MIT', feature: 'Text to image' };
  const catalog = {
    models: [
      {
        id: 'starter-tiny',
        name: 'Starter Tiny',
        family: 'sd1',
        type: 'checkpoint',
        source: `${base}/models/starter-tiny.safetensors`,
        sha256: createHash('sha256').update(payload).digest('hex'),
        size_bytes: payload.length,
        requires: 'generate',
        recommended: true,
        ...common,
      },
      { id: 'big-xl', name: 'Big XL', family: 'sdxl', type: 'checkpoint', source: `${base}/models/xl.safetensors`, size_bytes: 7e9, requires: 'sdxl', ...common },
      { id: 'upscaler', name: 'Some Upscaler', family: 'upscaler', type: 'upscaler', source: `${base}/models/x4.pth`, size_bytes: 6.7e7, requires: 'upscale', ...common, feature: 'Upscaling' },
    ],
  };
  catalogDir = mkdtempSync(join(tmpdir(), 'easel-catalog-'));
  writeFileSync(join(catalogDir, 'catalog.json'), JSON.stringify(catalog));

  rig = await startBrowserRig();
  web = await startWebServer(rig.dist, {
    fakeEngine: true,
    stepMs: 200,
    env: { ALLOW_PRIVATE_DOWNLOADS: 'true', STARTER_MODELS: join(catalogDir, 'catalog.json') },
  });
  ctx = await rig.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
}, 600_000);

afterAll(async () => {
  globalAgent.options.ca = savedCa;
  if (savedPhaseMs === undefined) delete process.env.FAKE_PHASE_MS;
  else process.env.FAKE_PHASE_MS = savedPhaseMs;
  await rig?.close();
  await web?.dispose();
  await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
  if (catalogDir) rmSync(catalogDir, { recursive: true, force: true });
}, 120_000);

describe.sequential('first run', () => {
  it(
    'has no ControlNet tab while the engine cannot run ControlNet',
    async () => {
      await openConnected(page, web.server.url);
      await page.locator('nav a[data-tab="generate"]').waitFor();
      expect(await page.locator('nav a[data-tab="controlnet"]').count()).toBe(0);
      expect(await page.locator('nav a').count()).toBe(4);
      await page.goto(`${web.server.url}/#/controlnet`);
      await page.locator('section[data-panel="generate"]').waitFor();
      expect(await page.locator('section[data-panel="controlnet"]').count()).toBe(0);
    },
    SLOW,
  );

  it(
    'offers the starter catalog with an empty models folder, and marks what this server cannot run',
    async () => {
      await page.goto(`${web.server.url}/#/generate`);
      const firstRun = page.locator('[data-testid="first-run"]');
      await firstRun.waitFor({ timeout: 60_000 });
      // Only what can be downloaded and run here is offered on first run.
      await expect.poll(() => firstRun.locator('[data-testid="starter"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(['starter-tiny']);
      expect(await firstRun.locator('[data-testid="starter"]').innerText()).toMatch(/Starter Tiny[\s\S]*Text to image: A test model\.[\s\S]*SD 1\.x · about \d+ B · MIT · https:\/\/127\.0\.0\.1/);

      await page.goto(`${web.server.url}/#/settings`);
      const all = page.locator('[data-testid="starter-models"] [data-testid="starter"]');
      await expect.poll(() => all.count(), { timeout: 30_000 }).toBe(3);
      const xl = page.locator('[data-testid="starter"][data-id="big-xl"]');
      expect(await xl.locator('[data-testid="starter-why"]').innerText()).toBe('Not yet: needs SDXL models, which this server cannot run yet');
      expect(await xl.locator('[data-testid="starter-download"]').isDisabled()).toBe(true);
      expect(await xl.locator('[data-testid="starter-download"]').getAttribute('title')).toBe('needs SDXL models, which this server cannot run yet');
      const up = page.locator('[data-testid="starter"][data-id="upscaler"] [data-testid="starter-why"]');
      expect(await up.innerText()).toBe('Not yet: needs upscaling, which this server cannot run yet');
    },
    SLOW,
  );

  it(
    'downloads a catalog entry in one tap into models/checkpoints, and the model lists show it',
    async () => {
      await page.goto(`${web.server.url}/#/generate`);
      const entry = page.locator('[data-testid="first-run"] [data-testid="starter"][data-id="starter-tiny"]');
      await entry.locator('[data-testid="starter-download"]').click();
      const file = join(web.dataDir, 'models', 'checkpoints', 'starter-tiny.safetensors');
      await expect.poll(() => existsSync(file), { timeout: 60_000 }).toBe(true);
      expect(readFileSync(file)).toEqual(payload);
      expect(served).toContain('/models/starter-tiny.safetensors');
      // The Generate form now has the model, and the first-run offer is gone.
      await expect.poll(() => page.locator('#f-model option[value="starter-tiny.safetensors"]').count(), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => page.locator('[data-testid="first-run"]').count(), { timeout: 30_000 }).toBe(0);
      await page.goto(`${web.server.url}/#/settings`);
      await expect.poll(() => page.locator('[data-testid="models"]').innerText(), { timeout: 30_000 }).toContain('starter-tiny.safetensors');
      await expect.poll(() => page.locator('[data-testid="starter"][data-id="starter-tiny"] [data-testid="starter-installed"]').count(), { timeout: 30_000 }).toBe(1);
    },
    SLOW,
  );

  it(
    "shows a job's phases under the progress bar, in order",
    async () => {
      await page.goto(`${web.server.url}/#/generate`);
      await page.locator('easel-prompt-field[name="prompt"] textarea').fill('a lighthouse at dusk');
      // Record every phase the line shows (attribute changes inside three shadow roots).
      await page.evaluate(() => {
        const w = window as unknown as { phases: string[] };
        w.phases = [];
        const root = document.querySelector('easel-app')!.shadowRoot!.querySelector('easel-generate-panel')!.shadowRoot!.querySelector('easel-job-progress')!.shadowRoot!;
        const record = (): void => {
          const el = root.querySelector('[data-testid="job-phase"]');
          const phase = el?.getAttribute('data-phase');
          if (phase && w.phases.at(-1) !== phase) w.phases.push(phase);
        };
        new MutationObserver(record).observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
      });
      await page.locator('[data-testid="generate"]').click();
      await expect.poll(() => page.locator('[data-testid="job-phase"]').innerText(), { timeout: 60_000 }).toMatch(/^Sampling · step \d+\/\d+$/);
      await expect.poll(() => page.locator('[data-testid="job-status"]').innerText(), { timeout: 60_000 }).toContain('Done');
      const phases = await page.evaluate(() => (window as unknown as { phases: string[] }).phases);
      // The first job loads the (double's) model; queued may be too brief to render.
      const expected = ['loading_model', 'encoding', 'sampling', 'decoding', 'saving'];
      expect(phases.filter((p) => p !== 'queued')).toEqual(expected);
    },
    SLOW,
  );
});

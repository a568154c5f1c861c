// Plumbing shared by the browser tests and `npm run bench:web`: build the PWA once into a temp
// folder, start the real server (server/server.ts) serving it on 127.0.0.1 port 0 with a temp
// DATA_DIR and a fixed token, and launch Debian's Chromium through playwright-core. Nothing here
// imports vitest (the bench runs outside it); test-only steps live in browser-steps.ts.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import sharp from 'sharp';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { loadConfig } from '../../server/config.js';
import { startServer, type RunningServer } from '../../server/server.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
/** Debian's chromium, Ubuntu's chromium-browser (or its snap), unless EASEL_CHROMIUM names another. */
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];
export const CHROMIUM_PATH = process.env.EASEL_CHROMIUM ?? CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? CHROMIUM_CANDIDATES[0]!;
export const SCREENSHOTS_DIR = join(REPO_ROOT, 'screenshots');
/** The engine test double of the server's own tests: real IPC, real PNG/JPEG bytes, no model. */
export const FAKE_WORKER = join(REPO_ROOT, 'server', 'test', 'fake-worker.ts');
export const TEST_TOKEN = 'browser-test-token-0123456789';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails (never skips) with a message that says how to get Chromium. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: the browser tests need it; install it with: bash scripts/install-system-deps.sh (or set EASEL_CHROMIUM=/path/to/chrome)`);
  }
}

/** `extraArgs` go after CHROMIUM_ARGS (the bench adds `--enable-precise-memory-info`). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/** `vite build` of web/ into `outDir` (a child process, so the test runner's own Vite is untouched). */
export function buildWeb(outDir: string): void {
  const viteBin = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [viteBin, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPO_ROOT,
    env: { ...process.env, EASEL_WEB_OUT_DIR: outDir, EASEL_BASE: '' },
    stdio: 'pipe',
  });
  if (!existsSync(join(outDir, 'index.html'))) throw new Error(`vite build wrote no index.html into ${outDir}`);
}

export interface WebTestServer {
  server: RunningServer;
  dataDir: string;
  dispose(): Promise<void>;
}

export interface WebServerOptions {
  /** true: the engine test double (real IPC, no model); false: the real engine worker. */
  fakeEngine: boolean;
  /** The double's time per step. */
  stepMs?: number;
  /** More environment for the double (FAKE_CONTROLNET, ...). */
  fakeEnv?: Record<string, string>;
  /** AUTH_TOKEN (default TEST_TOKEN). */
  token?: string;
  /** More environment settings (CORS_ORIGINS, DRIVE_*, ...); they win over the defaults here. */
  env?: Record<string, string>;
  /** Runs on the fresh DATA_DIR before the server starts (the bench seeds its gallery here). */
  beforeStart?: (dataDir: string) => Promise<void>;
}

/**
 * Starts the real server on 127.0.0.1:0 with a temp DATA_DIR (removed by `dispose`), serving
 * `webDist` (null: no web app, as a Colab server seen from GitHub Pages).
 */
export async function startWebServer(webDist: string | null, opts: WebServerOptions): Promise<WebTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'easel-web-'));
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  try {
    await opts.beforeStart?.(dataDir);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    MODELS_DIR: join(dataDir, 'models'),
    AUTH_TOKEN: opts.token ?? TEST_TOKEN,
    ...(webDist ? { WEB_DIST: webDist } : {}),
    LOG_LEVEL: 'silent',
    PREVIEW_EVERY: '1',
    // The tests reload and reconnect often; keep the per-IP limits out of their way.
    CONN_RATE_LIMIT: '10000',
    REST_RATE_LIMIT: '100000',
    RATE_LIMIT_POINTS: '100000',
    ...opts.env,
  });
  const server = await startServer(
    config,
    opts.fakeEngine
      ? { workerEntry: FAKE_WORKER, supervisor: { env: { FAKE_STEP_MS: String(opts.stepMs ?? 150), ...opts.fakeEnv } } }
      : {},
  );
  return {
    server,
    dataDir,
    dispose: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Name under which the tiny SD1 fixture checkpoint is installed by `installTinyCheckpoint`. */
export const TINY_MODEL = 'sd1-tiny.safetensors';

/**
 * Installs the shared tiny SD1 checkpoint (random weights, real topology) and its CLIP tokenizer
 * into a server's temp models folder, read from ../shared/fixtures in place. A copy, not a link:
 * the model registry skips symlinks on purpose.
 */
export function installTinyCheckpoint(dataDir: string): void {
  const models = join(dataDir, 'models');
  mkdirSync(join(models, 'checkpoints'), { recursive: true });
  copyFileSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', TINY_MODEL));
  cpSync(sd1TinyPath('tokenizer'), join(models, 'tokenizers', 'clip-vit-large-patch14'), { recursive: true });
}

export interface SeedImage {
  prompt: string;
  negative_prompt?: string;
  task?: string;
  model?: string;
  seed?: number;
}

/** Adds real PNGs (solid colours made with sharp) to the server's gallery through its store. */
export async function seedGallery(server: RunningServer, images: readonly SeedImage[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, img] of images.entries()) {
    const seed = img.seed ?? 1000 + i;
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: 160 } } })
      .png()
      .toBuffer();
    const meta = {
      task: img.task ?? 'txt2img',
      prompt: img.prompt,
      negative_prompt: img.negative_prompt ?? 'blurry',
      model: img.model ?? 'tiny.safetensors',
      width: 64,
      height: 64,
      seed,
      steps: 20,
      cfg_scale: 7,
      sampler: 'euler_a',
      scheduler: 'automatic',
    };
    const infotext = `${img.prompt}\nNegative prompt: ${meta.negative_prompt}\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: ${seed}, Size: 64x64, Model: ${meta.model.replace(/\.safetensors$/, '')}, Version: easel`;
    const record = await server.gallery.addImage({ png, infotext, meta });
    ids.push(record.id);
  }
  return ids;
}

export function tempWebDist(): string {
  return mkdtempSync(join(tmpdir(), 'easel-web-dist-'));
}

/**
 * Writes a minimal LoRA file into a server's models/loras: one tiny tensor and the kohya /
 * modelspec metadata the registry reads trigger words from (`modelspec.trigger_phrase` first,
 * then the tags of `ss_tag_frequency` by count).
 */
export function installTaggedLora(dataDir: string, name: string, triggerPhrase: string, tagCounts: Record<string, number>): void {
  const header = JSON.stringify({
    __metadata__: { 'modelspec.trigger_phrase': triggerPhrase, ss_tag_frequency: JSON.stringify({ '10_train': tagCounts }) },
    'lora_unet_x.alpha': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
  });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  const dir = join(dataDir, 'models', 'loras');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), Buffer.concat([len, Buffer.from(header), Buffer.from(new Float32Array([1]).buffer)]));
}

/**
 * The built PWA and one Chromium for a browser test file: contexts made here get the generous
 * waits a shared, slow CI machine needs, and `close` ends them all and removes the build.
 */
export interface BrowserRig {
  dist: string;
  browser: Browser;
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function startBrowserRig(): Promise<BrowserRig> {
  requireChromium();
  const dist = tempWebDist();
  const contexts = new Set<BrowserContext>();
  let browser: Browser | undefined;
  try {
    buildWeb(dist);
    browser = await launchChromium();
  } catch (err) {
    rmSync(dist, { recursive: true, force: true });
    throw err;
  }
  const b = browser;
  return {
    dist,
    browser: b,
    async newContext(options) {
      const ctx = await b.newContext(options);
      ctx.setDefaultTimeout(60_000);
      ctx.setDefaultNavigationTimeout(120_000);
      contexts.add(ctx);
      ctx.on('close', () => contexts.delete(ctx));
      return ctx;
    },
    async close() {
      for (const ctx of [...contexts]) await ctx.close();
      await b.close();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}

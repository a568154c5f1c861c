// An unchanged third-party AUTOMATIC1111 client from npm (`stable-diffusion-api`, a devDependency)
// drives the server with the real engine and a tiny checkpoint made by the project's own script:
// model list, options switch, txt2img (its infotext equal to the PNG's and to A1111's layout),
// img2img with a mask, progress while running, interrupt, and png-info of a generated image.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { StableDiffusionApi } from 'stable-diffusion-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../../native/models/random-checkpoint.js';
import { readPngTextChunks } from '../infotext/index.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { startTestServer, tempDir, installTinyTokenizer, type TestServer } from './helpers.js';

const JOB_MS = 240_000;

interface SdModel {
  title: string;
  model_name: string;
  hash: string | null;
  sha256: string | null;
}

interface Info {
  seed: number;
  all_seeds: number[];
  infotexts: string[];
  sd_model_name: string;
  sd_model_hash: string;
  sampler_name: string;
}

async function maskPng(w: number, h: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h);
  for (let y = 16; y < 40; y++) for (let x = 16; x < 40; x++) px[y * w + x] = 255;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

describe('an A1111 client library against Easel (real engine, tiny checkpoint)', () => {
  let server: TestServer;
  let dataDir: string;
  let api: StableDiffusionApi;
  let models: SdModel[];
  let txt2imgPng: Buffer;
  let txt2imgInfo: Info;

  beforeAll(async () => {
    dataDir = tempDir();
    installTinyTokenizer(join(dataDir, 'models'));
    const ckpts = join(dataDir, 'models', 'checkpoints');
    mkdirSync(join(ckpts, 'more'), { recursive: true });
    await writeTinyCheckpoint(join(ckpts, 'tiny.safetensors'), { seed: 11 });
    await writeTinyCheckpoint(join(ckpts, 'more', 'tiny-b.safetensors'), { seed: 12 });
    server = await startTestServer({ PREVIEW_EVERY: '1' }, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    await server.models.idle();
    const url = new URL(server.url);
    api = new StableDiffusionApi({ host: url.hostname, port: Number(url.port), timeout: JOB_MS, defaultSampler: 'Euler a', defaultStepCount: 4 });
    // `--api-auth` clients send Basic auth; Easel takes the token as the password.
    api.setAuth('easel', server.token);
  }, 120_000);
  afterAll(async () => {
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the checkpoints with A1111 titles and hashes', async () => {
    models = (await api.getSdModels()) as unknown as SdModel[];
    expect(models.map((m) => m.model_name).sort()).toEqual(['more_tiny-b', 'tiny']);
    const tiny = models.find((m) => m.model_name === 'tiny')!;
    expect(tiny.hash).toMatch(/^[0-9a-f]{10}$/);
    expect(tiny.title).toBe(`tiny.safetensors [${tiny.hash}]`);
    expect(tiny.sha256!.startsWith(tiny.hash!)).toBe(true);
    expect((await api.getSamplers()).map((s) => s.name)).toContain('Euler a');
  });

  it('txt2img: the answer carries the PNG, and its infotext is the PNG\'s and A1111\'s layout', async () => {
    const result = await api.txt2img({ prompt: 'a red house', negative_prompt: 'blurry', width: 64, height: 64, steps: 4, cfg_scale: 5, seed: 7, save_images: true });
    const raw = (result.response as unknown as { data: { images: string[]; info: string } }).data;
    expect(raw.images).toHaveLength(1);
    txt2imgPng = Buffer.from(raw.images[0]!, 'base64');
    expect(await result.image.metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
    txt2imgInfo = JSON.parse(raw.info) as Info;
    const tiny = models.find((m) => m.model_name === 'tiny')!;
    expect(txt2imgInfo).toMatchObject({ seed: 7, all_seeds: [7], sd_model_name: 'tiny', sd_model_hash: tiny.hash, sampler_name: 'Euler a' });
    const infotext = txt2imgInfo.infotexts[0]!;
    expect(readPngTextChunks(txt2imgPng).parameters).toBe(infotext);
    // What A1111 v1.10.1 writes for these parameters (its Version line aside), then Civitai's hashes.
    const [a1111, rest] = infotext.split(', Version: ');
    expect(a1111).toBe(`a red house\nNegative prompt: blurry\nSteps: 4, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 7, Size: 64x64, Model hash: ${tiny.hash}, Model: tiny`);
    expect(rest).toMatch(/^Easel /);
    // save_images: the gallery holds the same bytes.
    const row = server.gallery.list({ limit: 1 }).items[0]!;
    expect(readFileSync(server.gallery.filePath(row.id)!).equals(txt2imgPng)).toBe(true);
  }, JOB_MS);

  it('png-info reads the generated image back', async () => {
    // The client re-encodes its Sharp input; keepMetadata() keeps the PNG text chunk through that.
    const result = await api.pngInfo(sharp(txt2imgPng).keepMetadata());
    expect(result.info).toBe(txt2imgInfo.infotexts[0]);
    expect(result.parameters).toMatchObject({ Prompt: 'a red house', Seed: '7', Steps: '4', Sampler: 'Euler a' });
  });

  it('img2img with a mask (data-URL images from the client): unmasked pixels stay, the masked ones change', async () => {
    const result = await api.img2img({
      init_images: [sharp(txt2imgPng)],
      mask_image: sharp(await maskPng(64, 64)),
      prompt: 'a window',
      width: 64,
      height: 64,
      steps: 3,
      denoising_strength: 0.8,
      inpainting_fill: 1,
      inpaint_full_res: 0, // the client types it as a number; pydantic (and Easel) read 0 as false
      mask_blur: 2,
      seed: 9,
    });
    const raw = (result.response as unknown as { data: { images: string[]; info: string; parameters: Record<string, unknown> } }).data;
    expect(raw.parameters.init_images).toBeNull();
    const infotext = (JSON.parse(raw.info) as Info).infotexts[0]!;
    expect(infotext).toContain('Denoising strength: 0.8');
    expect(infotext).toContain('Mask blur: 2');
    const [orig, out] = await Promise.all([sharp(txt2imgPng).removeAlpha().raw().toBuffer(), sharp(Buffer.from(raw.images[0]!, 'base64')).removeAlpha().raw().toBuffer()]);
    expect(out.subarray(0, 64 * 3).equals(orig.subarray(0, 64 * 3))).toBe(true);
    const centre = (28 * 64 + 28) * 3;
    expect(out.subarray(centre, centre + 3).equals(orig.subarray(centre, centre + 3))).toBe(false);
  }, JOB_MS);

  it('switches the default checkpoint through options; it persists and the next job uses it', async () => {
    const b = models.find((m) => m.model_name === 'more_tiny-b')!;
    // Before any switch, the model a job without one runs on (what the first txt2img used).
    expect(await api.getCurrentModel()).toBe(models.find((m) => m.model_name === 'tiny')!.title);
    await api.setOptions({ sd_model_checkpoint: b.title } as never);
    expect(await api.getCurrentModel()).toBe(b.title);
    expect(JSON.parse(readFileSync(join(dataDir, 'sdapi-options.json'), 'utf8'))).toMatchObject({ sd_model_checkpoint: 'more/tiny-b.safetensors' });
    const result = await api.txt2img({ prompt: 'x', width: 64, height: 64, steps: 1, seed: 1 });
    expect(JSON.parse(result.info as string)).toMatchObject({ sd_model_name: 'more/tiny-b', sd_model_hash: b.hash });
    // Per job, override_settings wins and the default stays.
    const once = await api.txt2img({ prompt: 'x', width: 64, height: 64, steps: 1, seed: 1, override_settings: { sd_model_checkpoint: 'tiny' } });
    expect(JSON.parse(once.info as string)).toMatchObject({ sd_model_name: 'tiny' });
    expect(await api.getCurrentModel()).toBe(b.title);
    await api.setOptions({ sd_model_checkpoint: 'tiny' } as never);
  }, JOB_MS);

  it('polls progress while a job runs, then interrupts it', async () => {
    const job = api.txt2img({ prompt: 'long', width: 64, height: 64, steps: 150, seed: 3 });
    let progress: Awaited<ReturnType<StableDiffusionApi['getProgress']>> | undefined;
    const deadline = Date.now() + JOB_MS / 2;
    while (Date.now() < deadline) {
      const p = await api.getProgress();
      // The live preview is made beside the sampler, so it may trail the step counter by a poll or two.
      if (p.state.sampling_step >= 2 && p.current_image) {
        progress = p;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(progress).toBeDefined();
    expect(progress!.progress).toBeGreaterThan(0.01);
    expect(progress!.state).toMatchObject({ job_count: 1, sampling_steps: 150 });
    expect(progress!.current_image).toEqual(expect.any(String));
    expect(progress!.eta_relative).toBeGreaterThanOrEqual(0);
    // The client has no interrupt method; its own authenticated axios instance sends A1111's route.
    expect((await api.api.post('/sdapi/v1/interrupt')).data).toEqual({});
    const result = await job;
    expect(result.images).toEqual([]);
    expect((await api.getProgress()).state.job_count).toBe(0);
  }, JOB_MS);
});

// Live previews: the cheap projection uses A1111's SDXL matrix for SDXL models and the SD1 one
// otherwise; the method picks TAESD only with a decoder of the model's family (full image size) and
// falls back to cheap (latent size); the time budget holds sharp previews to 5 % of the job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTaesdDecoder, type TaesdDecoder } from '../taesd/taesd-decoder.js';
import { writeRandomTaesd } from '../taesd/random-taesd.js';
import type { Engine } from './engine.js';
import { LivePreview, PreviewBudget, parsePreviewMethod } from './live-preview.js';
import { latentToRgb } from './preview.js';

// A1111 sd_vae_approx.cheap_approximation, rows = latent channels, columns = R, G, B.
const A1111_SD1 = [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]];
const A1111_SDXL = [[0.3448, 0.4168, 0.4395], [-0.1953, -0.029, 0.025], [0.1074, 0.0886, -0.0163], [-0.373, -0.2499, -0.2088]];

let dir: string;
let sd1Taesd: TaesdDecoder;
let xlTaesd: TaesdDecoder;
const fakeEngine = (family: 'sd1' | 'sdxl') => ({ family }) as unknown as Engine;

async function pixelsOf(jpeg: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'easel-live-preview-'));
  await writeRandomTaesd(join(dir, 'taesd.safetensors'), 'diffusers', { channels: 8, seed: 3 });
  await writeRandomTaesd(join(dir, 'taesdxl.safetensors'), 'diffusers', { channels: 8, seed: 4 });
  sd1Taesd = await loadTaesdDecoder(join(dir, 'taesd.safetensors'));
  xlTaesd = await loadTaesdDecoder(join(dir, 'taesdxl.safetensors'));
}, 30_000);

afterAll(async () => {
  await sd1Taesd?.dispose();
  await xlTaesd?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('cheap preview', () => {
  it('projects each latent channel with the family matrix (SDXL has its own)', () => {
    for (const [family, table] of [['sd1', A1111_SD1], ['sdxl', A1111_SDXL]] as const) {
      for (let l = 0; l < 4; l++) {
        const latent = new Float32Array(4 * 2 * 3);
        latent.fill(0.8, l * 6, (l + 1) * 6); // channel l = 0.8 everywhere
        const rgb = latentToRgb(latent, { batch: 1, h: 2, w: 3 }, 0, family);
        expect([rgb.width, rgb.height]).toEqual([3, 2]);
        const want = table[l]!.map((k) => Math.round(Math.min(1, Math.max(0, (0.8 * k + 1) / 2)) * 255));
        expect([...rgb.data.subarray(0, 3)]).toEqual(want);
      }
    }
  });

  it('is what an SDXL model gets at every cadence point', async () => {
    const latent = new Float32Array(4 * 8 * 8).fill(0);
    latent.fill(2, 64, 128); // channel 1: SD1 makes it reddish-bright (R 175), SDXL dark (R 78)
    const xl = await new LivePreview(fakeEngine('sdxl'), { method: 'cheap' }).render(latent, { batch: 1, h: 8, w: 8 });
    const sd = await new LivePreview(fakeEngine('sd1'), { method: 'cheap' }).render(latent, { batch: 1, h: 8, w: 8 });
    const [a, b] = [await pixelsOf(xl.jpeg), await pixelsOf(sd.jpeg)];
    expect([a.width, a.height, xl.method]).toEqual([8, 8, 'cheap']);
    expect(Math.abs(a.data[0]! - Math.round(((2 * -0.1953 + 1) / 2) * 255))).toBeLessThanOrEqual(3);
    expect(Math.abs(b.data[0]! - Math.round(((2 * 0.187 + 1) / 2) * 255))).toBeLessThanOrEqual(3);
  });
});

describe('preview method', () => {
  const latent = Float32Array.from({ length: 4 * 6 * 5 }, (_, i) => Math.cos(i));
  const dims = { batch: 1, h: 6, w: 5 };

  it('auto and taesd use a TAESD decoder of the model family, at full image size', async () => {
    for (const method of ['auto', 'taesd'] as const) {
      const p = new LivePreview(fakeEngine('sd1'), { method, taesd: sd1Taesd, budgetShare: 1 });
      const out = await p.render(latent, dims);
      expect([out.method, out.width, out.height]).toEqual(['taesd', 40, 48]);
      const px = await pixelsOf(out.jpeg);
      expect([px.width, px.height]).toEqual([40, 48]);
    }
    const xl = await new LivePreview(fakeEngine('sdxl'), { taesd: xlTaesd, budgetShare: 1 }).render(latent, dims);
    expect([xl.method, xl.width]).toEqual(['taesd', 40]);
  });

  it('falls back to cheap without a matching decoder, or when cheap is asked for', async () => {
    const cases = [
      new LivePreview(fakeEngine('sdxl'), { method: 'auto', taesd: sd1Taesd, budgetShare: 1 }), // TAESD on SDXL latents would be wrong
      new LivePreview(fakeEngine('sd1'), { method: 'taesd', taesd: null, budgetShare: 1 }),
      new LivePreview(fakeEngine('sd1'), { method: 'cheap', taesd: sd1Taesd, budgetShare: 1 }),
    ];
    for (const p of cases) expect(await p.render(latent, dims)).toMatchObject({ method: 'cheap', width: 5, height: 6 });
  });

  it('never fails the job: a decoder error gives the cheap preview, for the rest of the job', async () => {
    const broken: TaesdDecoder = { ...sd1Taesd, family: 'sd1', decodeToRaster: () => Promise.reject(new Error('session lost')) };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const p = new LivePreview(fakeEngine('sd1'), { taesd: broken, budgetShare: 1 });
      expect(p.method).toBe('taesd');
      expect(await p.render(latent, dims)).toMatchObject({ method: 'cheap', width: 5 });
      expect(p.method).toBe('cheap');
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/session lost/));
    } finally {
      warn.mockRestore();
    }
  });

  it('parses the setting', () => {
    expect(parsePreviewMethod(' TAESD ')).toBe('taesd');
    expect(parsePreviewMethod('approx nn')).toBeNull();
    expect(parsePreviewMethod(undefined)).toBeNull();
  });
});

describe('preview budget', () => {
  it('allows a sharp preview only while previews stay within the share of elapsed time', () => {
    let t = 0;
    const b = new PreviewBudget(0.05, () => t, new Map());
    t = 1000;
    expect(b.allows('taesd', 4096)).toBe(true); // nothing known yet
    b.record('taesd', 4096, 100);
    t = 1100;
    // Next one: 100 + 100 ≤ 0.05 · (elapsed + 100) once elapsed ≥ 3900 ms.
    t = 3800;
    expect(b.allows('taesd', 4096)).toBe(false);
    t = 3900;
    expect(b.allows('taesd', 4096)).toBe(true);
    // At 4× the pixels (a hires pass) the estimate is 400 ms: 500 ≤ 0.05 · (elapsed + 400) from 9600 ms.
    t = 9500;
    expect(b.allows('taesd', 4 * 4096)).toBe(false);
    t = 9600;
    expect(b.allows('taesd', 4 * 4096)).toBe(true);
    expect(new PreviewBudget(1, () => t, new Map()).allows('x', 1)).toBe(true);
  });

  it('keeps a 20-step SD1.5 job (5.77 s steps, 2.3 s TAESD, preview every 2) within 5 %, cheap in between', async () => {
    let t = 0;
    const costs = new Map([['taesd', 2300 / 16]]); // known from an earlier job: 2.3 s for a 4×4 latent
    const slowTaesd: TaesdDecoder = {
      ...sd1Taesd,
      family: 'sd1',
      decodeToRaster: async (z, h, w) => {
        t += 2300;
        return sd1Taesd.decodeToRaster(z, h, w);
      },
    };
    const p = new LivePreview(fakeEngine('sd1'), { taesd: slowTaesd, now: () => t, costs });
    const methods: string[] = [];
    const z = new Float32Array(4 * 16);
    for (let step = 1; step <= 20; step++) {
      t += 5770;
      if (step % 2 === 0 && step < 20) methods.push((await p.render(z, { batch: 1, h: 4, w: 4 })).method);
    }
    expect(methods.filter((m) => m === 'taesd').length).toBeGreaterThanOrEqual(1);
    expect(methods).toContain('cheap');
    expect(p.spentMs / t).toBeLessThanOrEqual(0.05);
  });
});

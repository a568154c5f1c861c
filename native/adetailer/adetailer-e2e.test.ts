// ADetailer end to end in the worker's GenerationService on the sd1-tiny checkpoint and the
// yolo-tiny face detector: `generate` with one unit changes only pixels inside the padded, blurred
// masks (everything else byte-identical to the same generation without ADetailer), writes the
// extension's infotext fields, which png-info reads back into the same units; two units run in
// order; the `adetailer` job fixes an existing image; bad units are refused before any work.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationService } from '../generation-service.js';
import { blurMask, type Raster } from '../pipelines/image-ops.js';
import { fixturePath, sd1TinyPath } from '../testing/fixtures.js';
import type { RunHooks, RunOutput, WorkerImage } from '../worker-protocol.js';
import { formatInfotext, withPngTextChunk } from '../../server/infotext/index.js';
import { pngInfo } from '../../server/http/images.js';
import { toInfotextParams } from '../../server/jobs/result-infotext.js';
import type { Job } from '../../server/jobs/job.js';
import { adetailerFromInfotext, RESTORE_FACE_UNAVAILABLE, withDefaults, type ADetailerArgs } from './args.js';
import { predPreprocessing, toPrediction } from './masks.js';

let root: string;
let service: GenerationService;

const base = {
  model: 'tiny.safetensors',
  prompt: 'a portrait, (smile:1.1)',
  negative_prompt: 'blurry',
  width: 96,
  height: 64,
  steps: 3,
  cfg_scale: 7,
  sampler: 'euler',
  scheduler: 'automatic',
  seed: 1234,
  rng: 'cpu',
};
// A low confidence so the random tiny detector finds something on a random tiny image.
const unit: Partial<ADetailerArgs> = { ad_model: 'face_tiny.pt', ad_confidence: 0.05, ad_mask_k: 1 };

function hooks(previews: Uint8Array[] = [], progress: [number, number][] = []): RunHooks {
  return { signal: new AbortController().signal, previewEvery: 0, onProgress: (s, t) => progress.push([s, t]), onPreview: (_s, j) => previews.push(j) };
}

async function rgb(img: WorkerImage): Promise<Raster> {
  const { data, info } = await sharp(img.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) };
}

function infotextOf(out: RunOutput, p: Record<string, unknown>): string {
  const job = { id: 'j1', kind: 'generate', params: p } as unknown as Job;
  return formatInfotext(toInfotextParams(job, out.images[0], out.info));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'easel-adetailer-'));
  const models = join(root, 'models');
  for (const d of ['checkpoints', 'detectors', 'tokenizers/clip-vit-large-patch14']) mkdirSync(join(models, d), { recursive: true });
  symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(models, 'tokenizers', 'clip-vit-large-patch14', f));
  symlinkSync(fixturePath('yolo-tiny', 'face_tiny.pt'), join(models, 'detectors', 'face_tiny.pt'));
  service = new GenerationService({ modelsDir: models, device: 'cpu' });
}, 60_000);

afterAll(async () => {
  await service?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('ADetailer in generate', () => {
  it('changes only pixels inside the padded, blurred masks and writes the infotext fields', async () => {
    const plain = await service.run(base, hooks());
    const previews: Uint8Array[] = [];
    const params = { ...base, adetailer: [unit] };
    const fixed = await service.run(params, hooks(previews));
    const a = await rgb(plain.images[0]);
    const b = await rgb(fixed.images[0]);
    expect([b.width, b.height]).toEqual([96, 64]);

    // The masks ADetailer inpainted, from the image without ADetailer, blurred as A1111 does (mask_blur 4).
    const detector = await service.adetailer.detector('face_tiny.pt');
    const { masks } = predPreprocessing(toPrediction(await detector.detect(a, { conf: 0.05 })), withDefaults(unit));
    expect(masks).toHaveLength(1);
    const blurred = blurMask(masks[0], 4, 4);
    let changed = 0, outside = 0;
    for (let p = 0; p < 96 * 64; p++) {
      const differs = a.data[p * 3] !== b.data[p * 3] || a.data[p * 3 + 1] !== b.data[p * 3 + 1] || a.data[p * 3 + 2] !== b.data[p * 3 + 2];
      if (differs) changed++;
      if (differs && blurred.data[p] === 0) outside++;
    }
    expect(changed).toBeGreaterThan(50);
    expect(outside).toBe(0);
    expect(previews).toHaveLength(1); // the detection preview before inpainting

    const text = infotextOf(fixed, params);
    expect(text).toContain(
      'ADetailer model: face_tiny.pt, ADetailer confidence: 0.05, ADetailer method to decide top k masks: Area, ADetailer mask only top k: 1, ADetailer dilate erode: 4, ADetailer mask blur: 4, ADetailer denoising strength: 0.4, ADetailer inpaint only masked: True, ADetailer inpaint padding: 32, ADetailer version: 25.3.0',
    );
    const info = pngInfo(withPngTextChunk(fixed.images[0].png, 'parameters', text));
    expect(adetailerFromInfotext(info.parameters)).toEqual([withDefaults(unit)]);
  });

  it('runs two units in order, each on the result of the one before, with " 2nd" infotext keys', async () => {
    const u1 = { ...unit, ad_prompt: 'first face' };
    const u2 = { ...unit, ad_prompt: '[PROMPT], second', ad_denoising_strength: 0.6, ad_dilate_erode: 8 };
    const both = await service.run({ ...base, adetailer: [u1, u2] }, hooks());
    const one = await service.run({ ...base, adetailer: [u1] }, hooks());
    // the second unit alone on the first unit's output = both units
    const then = await service.runADetailer({ ...base, image: one.images[0].png, units: [{ ...u2 }] }, hooks());
    const swapped = await service.run({ ...base, adetailer: [u2, u1] }, hooks());
    expect(Buffer.from((await rgb(then.images[0])).data).equals(Buffer.from((await rgb(both.images[0])).data))).toBe(true);
    expect(Buffer.from((await rgb(swapped.images[0])).data).equals(Buffer.from((await rgb(both.images[0])).data))).toBe(false);
    const text = infotextOf(both, { ...base, adetailer: [u1, u2] });
    expect(text).toContain('ADetailer prompt: first face');
    expect(text).toContain('ADetailer prompt 2nd: "[PROMPT], second", ADetailer confidence 2nd: 0.05');
    expect(text).toContain('ADetailer dilate erode 2nd: 8');
    expect(text).toContain('ADetailer denoising strength 2nd: 0.6');
    const units = adetailerFromInfotext(pngInfo(withPngTextChunk(both.images[0].png, 'parameters', text)).parameters);
    expect(units).toEqual([withDefaults(u1), withDefaults(u2)]);
  });

  it('skips a detection whose [SEP] prompt is [SKIP], leaving the image as generated', async () => {
    const plain = await service.run(base, hooks());
    const skipped = await service.run({ ...base, adetailer: [{ ...unit, ad_prompt: '[SKIP] [SEP] other' }] }, hooks());
    expect(Buffer.from((await rgb(skipped.images[0])).data).equals(Buffer.from((await rgb(plain.images[0])).data))).toBe(true);
  });

  it('refuses a missing detector, MediaPipe and unsupported options before generating', async () => {
    await expect(service.run({ ...base, adetailer: [{ ad_model: 'nope.pt' }] }, hooks())).rejects.toMatchObject({ code: 'detector_not_found' });
    await expect(service.run({ ...base, adetailer: [{ ad_model: 'mediapipe_face_full' }] }, hooks())).rejects.toMatchObject({ code: 'unsupported_detector' });
    await expect(service.run({ ...base, adetailer: [{ ...unit, ad_restore_face: true }] }, hooks())).rejects.toMatchObject({
      code: 'not_implemented',
      message: RESTORE_FACE_UNAVAILABLE,
    });
  });

  it('"Use same checkpoint" / "Use same VAE" / "None" keep the image\'s own model and VAE', async () => {
    const fixed = await rgb((await service.run({ ...base, adetailer: [unit] }, hooks())).images[0]);
    for (const over of [
      { ad_use_checkpoint: true, ad_checkpoint: 'Use same checkpoint', ad_use_vae: true, ad_vae: 'Use same VAE' },
      { ad_use_checkpoint: true, ad_checkpoint: 'None', ad_use_vae: true, ad_vae: 'None' },
    ]) {
      const out = await rgb((await service.run({ ...base, adetailer: [{ ...unit, ...over }] }, hooks())).images[0]);
      expect(Buffer.from(out.data).equals(Buffer.from(fixed.data))).toBe(true);
    }
  });

  it('ad_use_noise_multiplier scales the passes\' initial noise: 1.0 is the plain pass, other values change only masked pixels', async () => {
    const plain = await rgb((await service.run(base, hooks())).images[0]);
    const fixed = await rgb((await service.run({ ...base, adetailer: [unit] }, hooks())).images[0]);
    const one = await service.run({ ...base, adetailer: [{ ...unit, ad_use_noise_multiplier: true, ad_noise_multiplier: 1.0 }] }, hooks());
    const halfParams = { ...base, adetailer: [{ ...unit, ad_use_noise_multiplier: true, ad_noise_multiplier: 0.5 }] };
    const half = await service.run(halfParams, hooks());
    const a = await rgb(one.images[0]);
    const b = await rgb(half.images[0]);
    expect(Buffer.from(a.data).equals(Buffer.from(fixed.data))).toBe(true);
    expect(Buffer.from(b.data).equals(Buffer.from(fixed.data))).toBe(false);
    // Outside the blurred mask the image is still the one generated without ADetailer.
    const detector = await service.adetailer.detector('face_tiny.pt');
    const { masks } = predPreprocessing(toPrediction(await detector.detect(plain, { conf: 0.05 })), withDefaults(unit));
    const blurred = blurMask(masks[0], 4, 4);
    for (let p = 0; p < 96 * 64; p++) if (blurred.data[p] === 0) expect(b.data[p * 3]).toBe(plain.data[p * 3]);
    const text = infotextOf(half, halfParams);
    expect(text).toContain('ADetailer use separate noise multiplier: True, ADetailer noise multiplier: 0.5, ADetailer version');
    // The pass's own `Noise multiplier` stays inside the pass, as ADetailer copies extra params into it.
    expect(text).not.toContain(' Noise multiplier:');
    const parsed = adetailerFromInfotext(pngInfo(withPngTextChunk(half.images[0].png, 'parameters', text)).parameters);
    expect(parsed[0]).toMatchObject({ ad_use_noise_multiplier: true, ad_noise_multiplier: 0.5 });
  });
});

describe('ADetailer on an img2img inpaint request', () => {
  const W = 96, H = 64;
  async function rectMask(x1: number, y1: number, x2: number, y2: number): Promise<{ png: Uint8Array; raster: Raster }> {
    const data = new Uint8Array(W * H);
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data[y * W + x] = 255;
    const png = await sharp(data, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
    return { png: new Uint8Array(png), raster: { width: W, height: H, channels: 1, data } };
  }
  const touches = (a: Raster, b: Raster) => a.data.some((v, i) => v > 0 && b.data[i] > 0);

  it('with "whole picture" inpaints only the detections that touch the request\'s mask (inpaint_mask_filter)', async () => {
    const source = (await service.run(base, hooks())).images[0].png;
    const { png: mask, raster } = await rectMask(0, 56, 8, 64);
    const inpaint = { ...base, task: 'inpaint', image: source, mask, strength: 0.5, inpaint_full_res: false };
    const adUnit = { ...unit, ad_mask_k: 4 };
    const plain = await rgb((await service.run(inpaint, hooks())).images[0]);
    const detector = await service.adetailer.detector('face_tiny.pt');
    const { masks } = predPreprocessing(toPrediction(await detector.detect(plain, { conf: 0.05 })), withDefaults(adUnit));
    const kept = masks.filter((m) => touches(raster, m)).length;
    // The request's mask must keep some detections and drop others for this check to mean anything.
    expect(masks.length).toBe(4);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(4);
    const progress: [number, number][] = [];
    const out = await service.run({ ...inpaint, adetailer: [adUnit] }, hooks([], progress));
    expect(progress.filter(([s]) => s === 0)).toEqual([[0, kept]]);
    expect(Buffer.from((await rgb(out.images[0])).data).equals(Buffer.from(plain.data))).toBe(false);
    // With "only masked" every detection is inpainted.
    const all: [number, number][] = [];
    await service.run({ ...inpaint, inpaint_full_res: true, adetailer: [adUnit] }, hooks([], all));
    expect(all.filter(([s]) => s === 0)).toEqual([[0, 4]]);
  });

  it('passes of an "only masked" inpaint request process at the request\'s width×height (p.width/p.height)', async () => {
    const source = (await service.run(base, hooks())).images[0].png;
    const { png: mask } = await rectMask(8, 8, 40, 40);
    const inpaint = { ...base, task: 'inpaint', image: source, mask, strength: 0.5, inpaint_full_res: true, width: 64, height: 64 };
    const same = await service.run({ ...inpaint, adetailer: [unit] }, hooks());
    const explicit = await service.run({ ...inpaint, adetailer: [{ ...unit, ad_use_inpaint_width_height: true, ad_inpaint_width: 64, ad_inpaint_height: 64 }] }, hooks());
    const other = await service.run({ ...inpaint, adetailer: [{ ...unit, ad_use_inpaint_width_height: true, ad_inpaint_width: 96, ad_inpaint_height: 64 }] }, hooks());
    const px = async (o: RunOutput) => Buffer.from((await rgb(o.images[0])).data);
    expect([same.images[0].width, same.images[0].height]).toEqual([96, 64]);
    expect((await px(same)).equals(await px(explicit))).toBe(true);
    expect((await px(same)).equals(await px(other))).toBe(false);
  });

  it('an all-black request mask turns ADetailer off: no passes and no ADetailer infotext keys', async () => {
    const source = (await service.run(base, hooks())).images[0].png;
    const { png: mask } = await rectMask(0, 0, 0, 0);
    const inpaint = { ...base, task: 'inpaint', image: source, mask, strength: 0.5, inpaint_full_res: false };
    const plain = await service.run(inpaint, hooks());
    const params = { ...inpaint, adetailer: [unit] };
    const out = await service.run(params, hooks());
    expect(Buffer.from((await rgb(out.images[0])).data).equals(Buffer.from((await rgb(plain.images[0])).data))).toBe(true);
    expect(infotextOf(out, params)).not.toContain('ADetailer');
  });
});

describe('the adetailer job', () => {
  it('fixes an existing image, reporting progress per detection and a detection preview', async () => {
    const plain = await service.run(base, hooks());
    const previews: Uint8Array[] = [];
    const progress: [number, number][] = [];
    const out = await service.runADetailer({ ...base, image: plain.images[0].png, units: [{ ...unit, ad_mask_k: 2 }] }, hooks(previews, progress));
    expect(out.images).toHaveLength(1);
    expect([out.images[0].width, out.images[0].height]).toEqual([96, 64]);
    expect(out.info.detections).toBe(2);
    expect(progress).toEqual([[0, 2], [1, 2]]);
    expect(previews).toHaveLength(1);
    expect(Buffer.from((await rgb(out.images[0])).data).equals(Buffer.from((await rgb(plain.images[0])).data))).toBe(false);
  });

  it('stops when cancelled', async () => {
    const plain = await service.run(base, hooks());
    const c = new AbortController();
    c.abort();
    await expect(
      service.runADetailer({ ...base, image: plain.images[0].png, units: [unit] }, { ...hooks(), signal: c.signal }),
    ).rejects.toBeTruthy();
  });
});

// The 9-channel SDXL inpainting UNet (sdxl-tiny with conv_in widened to 9 input channels, as in
// SDXL inpainting checkpoints): it loads as SDXL, txt2img and inpaint run, the 5 extra channels
// (mask + masked-image latent) reach the UNet — with them zeroed the result is exactly the 4-channel
// model's, with values it differs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors, type TensorData } from '../../io/safetensors.js';
import { seededValues } from '../../lora/test/make-lora.js';
import { CONFIG_METADATA_KEY } from '../../models/config.js';
import { generate } from '../../pipelines/generate.js';
import { loadEngine, type Engine } from '../../pipelines/engine.js';
import type { GenerateRequest } from '../../pipelines/types.js';
import { sd1TinyPath, sdxlTinyPath } from '../../testing/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-sdxl-inpaint-'));
const CONV_IN = 'model.diffusion_model.input_blocks.0.0.weight';

/** sdxl-tiny with conv_in [32, 9, 3, 3]: the original 4 input channels, then 5 more (random or zero). */
async function widen(path: string, extra: 'random' | 'zero'): Promise<void> {
  const src = await SafetensorsFile.open(sdxlTinyPath('model.safetensors'));
  try {
    const tensors: Record<string, TensorData> = {};
    for (const key of src.keys()) {
      const info = src.info(key)!;
      const data = await src.readFloat32(key);
      if (info.dtype === 'I64') tensors[key] = { dtype: 'I64', shape: info.shape, data: BigInt64Array.from(data, (v) => BigInt(v)) };
      else if (key === CONV_IN) {
        const [out, , kh, kw] = info.shape as [number, number, number, number];
        const k = kh * kw;
        const rnd = seededValues(5, out * 5 * k, 0.05);
        const w = new Float32Array(out * 9 * k);
        for (let o = 0; o < out; o++) {
          w.set(data.subarray(o * 4 * k, (o + 1) * 4 * k), o * 9 * k);
          if (extra === 'random') w.set(rnd.subarray(o * 5 * k, (o + 1) * 5 * k), o * 9 * k + 4 * k);
        }
        tensors[key] = { dtype: 'F32', shape: [out, 9, kh, kw], data: w };
      } else tensors[key] = { dtype: 'F32', shape: info.shape, data };
    }
    const config = JSON.parse(src.metadata[CONFIG_METADATA_KEY]!) as { unet: { in_channels: number } };
    config.unet.in_channels = 9;
    await writeSafetensors(path, tensors, { [CONFIG_METADATA_KEY]: JSON.stringify(config) });
  } finally {
    await src.close();
  }
}

const open = (path: string) => loadEngine(path, { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache') });

let inpainting: Engine;
let zeroed: Engine;
let plain: Engine;
let request: GenerateRequest;

beforeAll(async () => {
  await Promise.all([widen(join(dir, 'xl-inpaint.safetensors'), 'random'), widen(join(dir, 'xl-inpaint-zero.safetensors'), 'zero')]);
  [inpainting, zeroed, plain] = await Promise.all([open(join(dir, 'xl-inpaint.safetensors')), open(join(dir, 'xl-inpaint-zero.safetensors')), open(sdxlTinyPath('model.safetensors'))]);
  const image = await sharp(Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 256)), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  const px = Buffer.alloc(64 * 64);
  for (let y = 8; y < 40; y++) for (let x = 16; x < 48; x++) px[y * 64 + x] = 255;
  const mask = await sharp(px, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  request = {
    task: 'inpaint', prompt: 'a window', negative_prompt: 'blurry', width: 64, height: 64, steps: 3, cfg_scale: 6, sampler: 'euler',
    scheduler: 'automatic', seed: 3, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1, image, mask, mask_blur: 0, strength: 0.9,
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([inpainting?.dispose(), zeroed?.dispose(), plain?.dispose()]);
});

describe('SDXL 9-channel inpainting UNet', () => {
  it('loads as SDXL with a 9-channel UNet', () => {
    expect(inpainting.family).toBe('sdxl');
    expect(inpainting.config.unet.in_channels).toBe(9);
  });

  it('inpaint: zeroed extra channels give the 4-channel result, real ones change it', async () => {
    const [a, b, c] = [await generate(inpainting, request), await generate(zeroed, request), await generate(plain, request)];
    const px = (r: typeof a) => Buffer.from(r.images[0]!.rgb.data);
    let off = 0;
    const pb = px(b), pc = px(c);
    for (let i = 0; i < pb.length; i++) if (Math.abs(pb[i]! - pc[i]!) > 1) off++;
    expect(off).toBe(0);
    expect(px(a).equals(pc)).toBe(false);
  }, 120_000);

  it('txt2img runs on the inpainting UNet (mask of ones, grey image latent)', async () => {
    const r = await generate(inpainting, { ...request, task: 'txt2img', image: undefined, mask: undefined });
    expect(r.images[0]!.rgb.width).toBe(64);
  }, 60_000);
});

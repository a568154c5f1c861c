// Units in img2img / inpaint requests take their input as sd-webui-controlnet does: A1111's image
// (with the img2img resize mode) when they have none, A1111's prepared mask only for inpaint modules,
// and the "only masked" crop of everything they see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blurMask, invertMask, makeRaster, type Raster } from '../pipelines/image-ops.js';
import { loadEngine, type Engine } from '../pipelines/engine.js';
import { encodePng } from '../pipelines/resize.js';
import type { ControlNetUnitRequest } from '../pipelines/types.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { cropToA1111Mask, prepareA1111Mask } from './a1111-input.js';
import { cnFixturePath } from './test-fixture.js';
import { controlUnitsAt, loadControlUnits } from './units.js';

function noiseImage(width: number, height: number, seed: number): Raster {
  const r = makeRaster(width, height, 3);
  let s = seed >>> 0;
  for (let i = 0; i < r.data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    r.data[i] = s >>> 24;
  }
  return r;
}

function rectMask(width: number, height: number, x1: number, y1: number, x2: number, y2: number, value = 255): Raster {
  const m = makeRaster(width, height, 1);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m.data[y * width + x] = value;
  return m;
}

const base = { width: 64, height: 64, resize_mode: 0 as const, mask_blur: 0, inpaint_full_res: true, inpaint_full_res_padding: 16 };

describe('prepareA1111Mask (the extension prepare_mask)', () => {
  it('takes the luminance of an RGB mask, inverts when asked, then blurs', () => {
    const rgb = makeRaster(2, 1, 3);
    rgb.data.set([255, 0, 0, 0, 0, 255]);
    // PIL L of pure red is 76, of pure blue 29.
    expect(Array.from(prepareA1111Mask(rgb, { ...base, task: 'inpaint' }).data)).toEqual([76, 29]);
    expect(Array.from(prepareA1111Mask(rgb, { ...base, task: 'inpaint', inpainting_mask_invert: true }).data)).toEqual([179, 226]);
    const m = rectMask(32, 32, 8, 8, 24, 24);
    expect(prepareA1111Mask(m, { ...base, task: 'inpaint', mask_blur: 4 }).data).toEqual(blurMask(m, 4, 4).data);
  });
});

describe('cropToA1111Mask (try_crop_image_with_a1111_mask)', () => {
  it('cuts every channel to the "only masked" region, which here is exactly the processing size', () => {
    const image = noiseImage(128, 96, 7);
    // Mask x 40..71, y 30..61, padding 16 → region x 24..88, y 14..78: 64×64, no resize needed.
    const mask = rectMask(128, 96, 40, 30, 72, 62);
    return cropToA1111Mask([image, mask], 'Just Resize', mask, { ...base, task: 'inpaint' }).then(([img, msk]) => {
      expect([img!.width, img!.height, img!.channels]).toEqual([64, 64, 3]);
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          for (let c = 0; c < 3; c++) expect(img!.data[(y * 64 + x) * 3 + c]).toBe(image.data[((y + 14) * 128 + x + 24) * 3 + c]);
          expect(msk!.data[y * 64 + x]).toBe(mask.data[(y + 14) * 128 + x + 24]);
        }
      }
    });
  });

  it('leaves the input alone without "only masked" inpainting', async () => {
    const image = noiseImage(40, 24, 3);
    const mask = rectMask(40, 24, 4, 4, 10, 10);
    const [same] = await cropToA1111Mask([image], 'Just Resize', mask, { ...base, task: 'inpaint', inpaint_full_res: false });
    expect(same!.data).toEqual(image.data);
    const [img2img] = await cropToA1111Mask([image], 'Just Resize', undefined, { ...base, task: 'img2img' });
    expect(img2img!.data).toEqual(image.data);
  });
});

describe('units without their own image in inpaint requests', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer') });
  });
  afterAll(async () => {
    await engine?.dispose();
  });
  const deps = () => ({ resolveControlNet: () => cnFixturePath('control_tiny_canny.safetensors'), cache: engine.controlnets!, family: 'sd1' as const });
  const unit = (module: string): ControlNetUnitRequest => ({ model: 'control_tiny_canny', module, resize_mode: 'Crop and Resize' });

  it('a canny unit reads A1111\'s image and never its (grey) mask', async () => {
    const image = await encodePng(noiseImage(64, 64, 11));
    const grey = await encodePng(rectMask(64, 64, 0, 0, 64, 64, 128));
    const common = { ...base, inpaint_full_res: false, image, controlnet: [unit('canny')] };
    const [inpaint] = await loadControlUnits({ ...common, task: 'inpaint', mask: grey }, deps());
    const [img2img] = await loadControlUnits({ ...common, task: 'img2img' }, deps());
    expect(inpaint!.detectedRaw.data).toEqual(img2img!.detectedRaw.data);
    // Without A1111's image the unit follows the img2img resize mode, while the infotext keeps its own.
    expect(inpaint!.inputResizeMode).toBe('Just Resize');
    expect(inpaint!.resizeMode).toBe('Crop and Resize');
  });

  it('an inpaint unit takes the prepared mask (inverted, blurred) as its −1 area', async () => {
    const raw = rectMask(64, 64, 16, 16, 40, 48);
    const req = { ...base, inpaint_full_res: false, task: 'inpaint' as const, mask_blur: 4, inpainting_mask_invert: true };
    const [u] = await loadControlUnits({ ...req, image: await encodePng(noiseImage(64, 64, 5)), mask: await encodePng(raw), controlnet: [unit('inpaint_only')] }, deps());
    const prepared = blurMask(invertMask(raw), 4, 4);
    const [hint] = controlUnitsAt([u!], 64, 64);
    let checked = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const masked = Math.fround(prepared.data[i]! / 255) > 0.5;
      expect(hint!.hint[i] === -1).toBe(masked);
      checked++;
    }
    expect(checked).toBe(4096);
  });
});

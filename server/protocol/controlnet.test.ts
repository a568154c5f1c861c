import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../native/testing/fixtures.js';
import { ActionSchemas } from './actions.js';
import { zodToEaselError } from './errors.js';

const png = readFileSync(fixturePath('sd1-controlnet', 'ctl_shapes_64x64.png')).toString('base64');
const generate = (p: Record<string, unknown>) => ActionSchemas.generate.safeParse({ prompt: 'x', ...p });
const errorOf = (p: Record<string, unknown>) => {
  const r = generate(p);
  if (r.success) throw new Error('expected a validation error');
  return zodToEaselError(r.error).toWire();
};

describe('generate.controlnet units', () => {
  it("fills the extension's defaults and keeps omitted sliders omitted", () => {
    const r = generate({ controlnet: [{ model: 'control_tiny_canny [93054dcb]', image: png }] });
    expect(r.success).toBe(true);
    const u = r.data!.controlnet![0]!;
    expect(u).toMatchObject({ enabled: true, module: 'none', weight: 1, resize_mode: 'Crop and Resize', guidance_start: 0, guidance_end: 1, control_mode: 'Balanced', pixel_perfect: false });
    expect(u.image).toBeInstanceOf(Uint8Array);
    expect('processor_res' in u || 'threshold_a' in u || 'threshold_b' in u).toBe(false);
  });

  it('takes resize and control modes by name, by the API ints and by the old aliases, and answers names', () => {
    const r = generate({
      controlnet: [
        { model: 'm', image: png, resize_mode: 0, control_mode: 2 },
        { model: 'm', image: png, resize_mode: 'Envelope (Outer Fit)', control_mode: 'My prompt is more important' },
        { model: 'm', image: png, resize_mode: 'Crop and Resize', control_mode: 0, threshold_a: 100 },
      ],
    });
    expect(r.data!.controlnet!.map((u) => [u.resize_mode, u.control_mode])).toEqual([
      ['Just Resize', 'ControlNet is more important'],
      ['Resize and Fill', 'My prompt is more important'],
      ['Crop and Resize', 'Balanced'],
    ]);
    expect(r.data!.controlnet![2]!.threshold_a).toBe(100);
  });

  it("accepts the extension's legacy input_image and Forge's mask_image", () => {
    const r = generate({ controlnet: [{ model: 'm', module: 'canny', input_image: `data:image/png;base64,${png}`, mask_image: png }] });
    const u = r.data!.controlnet![0]!;
    expect(u.image).toBeInstanceOf(Uint8Array);
    expect(u.mask).toBeInstanceOf(Uint8Array);
    expect('input_image' in u || 'mask_image' in u).toBe(false);
  });

  it('names the unit and field of each validation error', () => {
    expect(errorOf({ controlnet: [{ model: 'm', image: png }, { model: 'm' }] })).toMatchObject({ code: 'invalid_params', field: 'controlnet.1.image' });
    expect(errorOf({ controlnet: [{ model: 'm', image: png, resize_mode: 5 }] })).toMatchObject({ field: 'controlnet.0.resize_mode' });
    expect(errorOf({ controlnet: [{ model: 'm', image: png, control_mode: 'Louder' }] }).message).toContain('"Balanced" (0)');
    expect(errorOf({ controlnet: [{ model: 'm', image: png, weight: 3 }] })).toMatchObject({ field: 'controlnet.0.weight' });
    expect(errorOf({ controlnet: [{ model: 'm', image: png, guidance_start: 0.8, guidance_end: 0.2 }] })).toMatchObject({ field: 'controlnet.0.guidance_start' });
    expect(errorOf({ controlnet: [{ model: 'm', image: 'not base64!' }] })).toMatchObject({ field: 'controlnet.0.image' });
    expect(errorOf({ controlnet: [{ model: 'm', image: png, image_id: 'abc' }] })).toMatchObject({ field: 'controlnet.0.image_id' });
    expect(errorOf({ controlnet: [{ model: 'm', image: png, made_up: 1 }] })).toMatchObject({ field: 'controlnet.0.made_up' });
  });

  it('takes at most three units', () => {
    const unit = { model: 'm', image: png };
    expect(generate({ controlnet: [unit, unit, unit] }).success).toBe(true);
    expect(errorOf({ controlnet: [unit, unit, unit, unit] })).toMatchObject({ field: 'controlnet', message: expect.stringContaining('at most 3') });
  });

  it('needs no unit image in img2img and inpaint (the init image is used), nor for disabled units', () => {
    expect(generate({ task: 'img2img', image: png, controlnet: [{ model: 'm', module: 'canny' }] }).success).toBe(true);
    expect(generate({ task: 'inpaint', image: png, mask: png, controlnet: [{ model: 'm', module: 'inpaint_only' }] }).success).toBe(true);
    expect(generate({ controlnet: [{ model: 'm', enabled: false }] }).success).toBe(true);
  });

  it('validates the preprocess action: one image, a module', () => {
    expect(ActionSchemas.preprocess.safeParse({ module: 'canny', image: png }).success).toBe(true);
    const both = ActionSchemas.preprocess.safeParse({ module: 'canny', image: png, image_id: 'x1' });
    expect(zodToEaselError(both.error!).field).toBe('image_id');
    const none = ActionSchemas.preprocess.safeParse({ module: 'canny' });
    expect(zodToEaselError(none.error!).field).toBe('image_id');
  });
});

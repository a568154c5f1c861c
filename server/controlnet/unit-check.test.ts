import { describe, expect, it } from 'vitest';
import { findControlNetModule } from '../../native/controlnet/modules.js';
import { EaselError } from '../protocol/errors.js';
import type { ControlNetUnit } from '../protocol/controlnet.js';
import type { ControlNetModel } from './controlnet-models.js';
import { checkControlNetUnits, type UnitCheckDeps } from './unit-check.js';

const MODELS: ControlNetModel[] = [
  { name: 'control_tiny_canny.safetensors', title: 'control_tiny_canny [93054dcb]', stem: 'control_tiny_canny', family: 'sd1' },
  { name: 'xl/controlnet-canny-sdxl.safetensors', title: 'controlnet-canny-sdxl [0123abcd]', stem: 'controlnet-canny-sdxl', family: 'sdxl' },
];

function deps(checkpointFamily = 'sd1'): UnitCheckDeps {
  return {
    findModule: (name) => {
      const m = findControlNetModule(name);
      return m && { name: m.name, available: m.available, ...(m.unavailableReason ? { reason: m.unavailableReason } : {}) };
    },
    resolveModel: (model) => Promise.resolve(MODELS.find((m) => m.title === model || m.name === model || m.stem === model)),
    checkpointFamily: () => Promise.resolve(checkpointFamily),
    imageExists: (id) => id === 'img1',
  };
}

const unit = (u: Partial<ControlNetUnit>): ControlNetUnit => ({
  enabled: true,
  module: 'canny',
  model: 'control_tiny_canny [93054dcb]',
  weight: 1,
  resize_mode: 'Crop and Resize',
  guidance_start: 0,
  guidance_end: 1,
  control_mode: 'Balanced',
  pixel_perfect: false,
  image: new Uint8Array([1]),
  ...u,
});

async function failure(units: ControlNetUnit[], d = deps()): Promise<EaselError> {
  try {
    await checkControlNetUnits(units, d);
  } catch (err) {
    if (err instanceof EaselError) return err;
    throw err;
  }
  throw new Error('expected the check to fail');
}

describe('checkControlNetUnits', () => {
  it('resolves models to their file, keeps the module as given, and drops disabled units', async () => {
    const out = await checkControlNetUnits([unit({ enabled: false, module: 'nope' }), unit({ module: 'invert (from white bg & black line)', model: 'control_tiny_canny' })], deps());
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ model: 'control_tiny_canny.safetensors', module: 'invert (from white bg & black line)' });
  });

  it('refuses an unknown module as invalid_params naming the unit', async () => {
    expect((await failure([unit({}), unit({ module: 'cany' })])).toWire()).toMatchObject({ code: 'invalid_params', field: 'controlnet.1.module' });
  });

  it('refuses a module Easel does not compute yet with not_implemented and its reason', async () => {
    const e = (await failure([unit({ module: 'depth_midas' })])).toWire();
    expect(e).toMatchObject({ code: 'not_implemented', field: 'controlnet.0.module' });
    expect(e.message).toContain('depth_midas');
  });

  it('refuses a missing or unknown model', async () => {
    expect((await failure([unit({ model: 'None' })])).toWire()).toMatchObject({ code: 'invalid_params', field: 'controlnet.0.model' });
    expect((await failure([unit({ model: 'control_v11p_sd15_canny [d14c016b]' })])).toWire()).toMatchObject({ code: 'invalid_params', field: 'controlnet.0.model' });
  });

  it('refuses a ControlNet of another family than the checkpoint', async () => {
    const e = (await failure([unit({}), unit({ model: 'controlnet-canny-sdxl [0123abcd]' })])).toWire();
    expect(e).toMatchObject({ code: 'model_family_mismatch', field: 'controlnet.1.model' });
    expect(e.message).toContain('SDXL ControlNet; the checkpoint is SD 1.x');
    expect((await failure([unit({})], deps('sdxl'))).code).toBe('model_family_mismatch');
    await expect(checkControlNetUnits([unit({ model: 'controlnet-canny-sdxl' })], deps('sdxl'))).resolves.toHaveLength(1);
  });

  it('refuses a gallery image that does not exist', async () => {
    expect((await failure([unit({ image: undefined, image_id: 'gone' })])).toWire()).toMatchObject({ code: 'not_found', field: 'controlnet.0.image_id' });
    await expect(checkControlNetUnits([unit({ image: undefined, image_id: 'img1' })], deps())).resolves.toHaveLength(1);
  });
});

// The A1111 request models (pydantic v1 coercion) and their translation to GenerationParams,
// including hires fix and ADetailer as they will run once the worker reports those capabilities.
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../protocol/actions.js';
import { IMG2IMG_FIELDS, RequestValidationError, TXT2IMG_FIELDS, coerce, parseRequest } from './a1111-request.js';
import { DEFAULT_SDAPI_OPTIONS } from './options-store.js';
import { MissingFeatureError, adetailerUnits, toGenerationInput, type TranslateContext } from './translate.js';
import { findCheckpoint } from './model-titles.js';
import { applyInfotext } from './apply-infotext.js';

const ckpt = (name: string, hash: string): ModelEntry => ({ name, type: 'checkpoint', size_bytes: 1, short_hash: hash, sha256: hash + '0'.repeat(54) });
const ctx = (over: Partial<TranslateContext> = {}): TranslateContext => ({
  capabilities: { generate: true, upscale: false, adetailer: false },
  options: DEFAULT_SDAPI_OPTIONS,
  checkpoints: [ckpt('a.safetensors', '0123456789'), ckpt('sub/b.safetensors', 'abcdefabcd')],
  vaes: [{ name: 'kl-f8.safetensors', type: 'vae', size_bytes: 1 }],
  ...over,
});
const txt2img = (body: Record<string, unknown>, c = ctx()) => toGenerationInput('txt2img', parseRequest(TXT2IMG_FIELDS, body), c);
const img2img = (body: Record<string, unknown>, c = ctx()) => toGenerationInput('img2img', parseRequest(IMG2IMG_FIELDS, body), c);

describe('pydantic v1 coercion', () => {
  it.each([
    ['int', '20', 20],
    ['int', 3.9, 3],
    ['int', true, 1],
    ['float', '0.5', 0.5],
    ['str', 5, '5'],
    ['bool', 'yes', true],
    ['bool', 0, false],
    ['bool', 'off', false],
  ] as const)('%s accepts %j as %j', (type, input, out) => {
    expect(coerce(type, input)).toEqual({ ok: true, value: out });
  });

  it.each([
    ['int', 'abc', 'type_error.integer'],
    ['int', null, 'type_error.integer'],
    ['float', 'x', 'type_error.float'],
    ['str', {}, 'type_error.str'],
    ['bool', 'maybe', 'type_error.bool'],
    ['bool', 2, 'type_error.bool'],
    ['list', 'a', 'type_error.list'],
    ['dict', [], 'type_error.dict'],
  ] as const)('%s refuses %j with %s', (type, input, code) => {
    expect(coerce(type, input)).toMatchObject({ ok: false, type: code });
  });

  it('fills A1111 defaults, drops unknown keys, refuses null for non-Optional fields', () => {
    const r = parseRequest(TXT2IMG_FIELDS, { prompt: 'x', nonsense: 1 });
    expect(r).toMatchObject({ steps: 50, cfg_scale: 7, width: 512, sampler_index: 'Euler', seed: -1, send_images: true, save_images: false, sampler_name: null });
    expect(r).not.toHaveProperty('nonsense');
    expect(() => parseRequest(TXT2IMG_FIELDS, { steps: null })).toThrow(RequestValidationError);
    expect(parseRequest(TXT2IMG_FIELDS, { sampler_name: null }).sampler_name).toBeNull();
    expect(parseRequest(IMG2IMG_FIELDS, {})).toMatchObject({ inpainting_fill: 0, inpaint_full_res: true, inpaint_full_res_padding: 0, denoising_strength: 0.75, mask_blur_x: 4 });
  });
});

describe('A1111 request → GenerationParams', () => {
  it('maps the common fields, sampler_index as the old alias, and the scheduler', () => {
    const { params } = txt2img({ prompt: 'p', negative_prompt: 'n', steps: 12, sampler_index: 'DPM++ 2M Karras', seed: 5, batch_size: 2, n_iter: 3, scheduler: 'Exponential' });
    expect(params).toMatchObject({ task: 'txt2img', prompt: 'p', negative_prompt: 'n', steps: 12, sampler: 'DPM++ 2M Karras', scheduler: 'Exponential', seed: 5, batch_size: 2, n_iter: 3, clip_skip: 1, rng: 'nv' });
    expect(txt2img({ sampler_name: 'Heun', sampler_index: 'Euler' }).params.sampler).toBe('Heun');
  });

  it('applies override_settings per job and the stored options otherwise', () => {
    const stored = ctx({ options: { ...DEFAULT_SDAPI_OPTIONS, sd_model_checkpoint: 'sub/b.safetensors', CLIP_stop_at_last_layers: 2, randn_source: 'CPU' } });
    expect(txt2img({}, stored).params).toMatchObject({ model: 'sub/b.safetensors', clip_skip: 2, rng: 'cpu' });
    const over = txt2img({ override_settings: { sd_model_checkpoint: 'a.safetensors [0123456789]', sd_vae: 'kl-f8', CLIP_stop_at_last_layers: 3, randn_source: 'GPU' } }, stored);
    expect(over.params).toMatchObject({ model: 'a.safetensors', vae: 'kl-f8.safetensors', clip_skip: 3, rng: 'nv' });
    expect(() => txt2img({ override_settings: { sd_model_checkpoint: 'missing' } })).toThrow(RequestValidationError);
    expect(() => txt2img({ override_settings: { eta_noise_seed_delta: 31337 } })).toThrow(MissingFeatureError);
  });

  it('finds checkpoints by title, file name, stem, model_name and hash', () => {
    const models = ctx().checkpoints;
    for (const name of ['sub/b.safetensors [abcdefabcd]', 'sub/b.safetensors', 'sub/b', 'sub_b', 'b', 'b.safetensors', 'abcdefabcd', 'abcdefab']) {
      expect(findCheckpoint(models, name)?.name, name).toBe('sub/b.safetensors');
    }
    expect(findCheckpoint(models, 'c')).toBeUndefined();
  });

  it('maps every hires field to Easel\'s hires object once the worker can do it', () => {
    const caps = ctx({ capabilities: { generate: true, upscale: false, adetailer: false, hires: true } });
    const body = {
      enable_hr: true,
      hr_scale: 1.5,
      hr_upscaler: 'Latent (bicubic)',
      hr_second_pass_steps: 8,
      denoising_strength: 0.45,
      hr_resize_x: 768,
      hr_resize_y: 640,
      hr_sampler_name: 'DPM++ 2M',
      hr_scheduler: 'Karras',
      hr_prompt: 'sharp',
      hr_negative_prompt: 'soft',
    };
    expect(txt2img(body, caps).params.hires).toEqual({
      enabled: true,
      scale: 1.5,
      upscaler: 'Latent (bicubic)',
      steps: 8,
      denoising_strength: 0.45,
      width: 768,
      height: 640,
      sampler: 'DPM++ 2M',
      scheduler: 'Karras',
      prompt: 'sharp',
      negative_prompt: 'soft',
    });
    // "Use same ..." and empty prompts mean: inherit.
    const same = txt2img({ enable_hr: true, hr_sampler_name: 'Use same sampler', hr_scheduler: 'Use same scheduler' }, caps).params.hires as Record<string, unknown>;
    expect(same).toEqual({ enabled: true, scale: 2, upscaler: 'Latent', steps: 0, denoising_strength: 0.75, width: 0, height: 0 });
    expect(() => txt2img(body)).toThrow(expect.objectContaining({ code: 'not_implemented', feature: 'hires' }));
    expect(txt2img({ enable_hr: false }).params).not.toHaveProperty('hires');
  });

  it('maps ADetailer args to units with ADetailer\'s own names once the worker can do it', () => {
    const args = [true, false, { ad_model: 'face_yolov8n.pt', ad_prompt: 'a face', ad_confidence: 0.5, ad_tab_enable: true }, { ad_model: 'None' }, { ad_model: 'hand_yolov8n.pt', ad_tab_enable: false }];
    // Skipped tabs stay in place: ADetailer numbers the infotext suffixes over every tab.
    const all = [{ ad_model: 'face_yolov8n.pt', ad_prompt: 'a face', ad_confidence: 0.5, ad_tab_enable: true }, { ad_model: 'None' }, { ad_model: 'hand_yolov8n.pt', ad_tab_enable: false }];
    expect(adetailerUnits(args)).toEqual({ units: all, argIndex: [2, 3, 4], skipImg2img: false });
    expect(adetailerUnits([{ ad_model: 'face_yolov8n.pt' }]).argIndex).toEqual([0]);
    expect(adetailerUnits([false, { ad_model: 'face_yolov8n.pt' }]).units).toEqual([]);
    expect(adetailerUnits([true, true, {}, { ad_model: 'None' }])).toEqual({ units: [], argIndex: [], skipImg2img: true });
    expect(adetailerUnits([true, true, {}, { ad_model: 'x.pt' }]).units).toEqual([{ ad_model: 'None' }, { ad_model: 'x.pt' }]);
    const caps = ctx({ capabilities: { generate: true, upscale: false, adetailer: true } });
    const t = txt2img({ alwayson_scripts: { adetailer: { args } } }, caps);
    expect(t.params.adetailer).toEqual(all);
    // Easel's validation errors point back at the A1111 arg.
    expect(t.locOf(['adetailer', 0, 'ad_confidence'])).toEqual(['alwayson_scripts', 'adetailer', 'args', 2, 'ad_confidence']);
    expect(t.locOf(['hires', 'scale'])).toEqual(['hr_scale']);
    expect(t.locOf(['strength'])).toEqual(['denoising_strength']);
    expect(() => txt2img({ alwayson_scripts: { ADetailer: { args } } })).toThrow(expect.objectContaining({ feature: 'adetailer' }));
  });

  it('refuses ad_restore_face and skip_img2img on img2img with a coded 501; skip_img2img turns ADetailer off for inpainting', () => {
    const caps = ctx({ capabilities: { generate: true, upscale: false, adetailer: true } });
    const png = 'iVBORw0KGgo=';
    expect(() => txt2img({ alwayson_scripts: { ADetailer: { args: [true, false, { ad_model: 'face_yolov8n.pt', ad_restore_face: true }] } } }, caps)).toThrow(
      expect.objectContaining({ code: 'not_implemented', feature: 'ad_restore_face', message: expect.stringContaining('GFPGAN/CodeFormer') }),
    );
    // a skipped tab is never read
    expect(txt2img({ alwayson_scripts: { ADetailer: { args: [{ ad_model: 'a.pt' }, { ad_model: 'None', ad_restore_face: true }] } } }, caps).params.adetailer).toHaveLength(2);
    const skip = { alwayson_scripts: { ADetailer: { args: [true, true, { ad_model: 'face_yolov8n.pt' }] } } };
    expect(() => img2img({ init_images: [png], ...skip }, caps)).toThrow(expect.objectContaining({ feature: 'adetailer_skip_img2img' }));
    expect(img2img({ init_images: [png], mask: png, ...skip }, caps).params).not.toHaveProperty('adetailer');
    expect(txt2img(skip, caps).params.adetailer).toEqual([{ ad_model: 'face_yolov8n.pt' }]);
  });

  it('gives tabs without ad_bbox_sortby ADetailer\'s global setting (override_settings, else the stored option)', () => {
    const caps = ctx({ capabilities: { generate: true, upscale: false, adetailer: true } });
    const args = [true, false, { ad_model: 'a.pt' }, { ad_model: 'b.pt', ad_bbox_sortby: 'Area (large to small)' }];
    const body = { alwayson_scripts: { ADetailer: { args } } };
    expect(txt2img(body, caps).params.adetailer).toEqual([{ ad_model: 'a.pt' }, { ad_model: 'b.pt', ad_bbox_sortby: 'Area (large to small)' }]);
    const stored = ctx({ ...caps, options: { ...DEFAULT_SDAPI_OPTIONS, ad_bbox_sortby: 'Position (left to right)' } });
    expect((txt2img(body, stored).params.adetailer as Record<string, unknown>[])[0]).toEqual({ ad_model: 'a.pt', ad_bbox_sortby: 'Position (left to right)' });
    const over = txt2img({ ...body, override_settings: { ad_bbox_sortby: 'Position (center to edge)' } }, stored).params.adetailer as Record<string, unknown>[];
    expect(over.map((u) => u.ad_bbox_sortby)).toEqual(['Position (center to edge)', 'Area (large to small)']);
    expect(() => txt2img({ ...body, override_settings: { ad_bbox_sortby: 'sideways' } }, caps)).toThrow(RequestValidationError);
  });

  it('passes img2img initial_noise_multiplier through (None = 1.0) and reads Noise multiplier from an infotext', () => {
    const png = 'iVBORw0KGgo=';
    expect(img2img({ init_images: [png], initial_noise_multiplier: 0.5 }).params.initial_noise_multiplier).toBe(0.5);
    expect(img2img({ init_images: [png] }).params).not.toHaveProperty('initial_noise_multiplier');
    expect(txt2img({ initial_noise_multiplier: 0.5 }).params).not.toHaveProperty('initial_noise_multiplier');
    const body = { init_images: [png], infotext: 'x\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Denoising strength: 0.5, Noise multiplier: 0.8' };
    const r = applyInfotext(parseRequest(IMG2IMG_FIELDS, body), new Set(Object.keys(body)), IMG2IMG_FIELDS, { checkpoint: () => false, vae: () => false });
    expect(img2img(r).params.initial_noise_multiplier).toBe(0.8);
  });

  it('maps img2img and inpainting fields', () => {
    const png = 'iVBORw0KGgo=';
    expect(img2img({ init_images: [png], denoising_strength: 0.3, resize_mode: 1 }).params).toMatchObject({ task: 'img2img', image: png, strength: 0.3, resize_mode: 1 });
    const inpaint = img2img({ init_images: [png], mask: png, inpainting_fill: 2, inpaint_full_res: false, inpaint_full_res_padding: 16, inpainting_mask_invert: 1, mask_blur_x: 6 }).params;
    expect(inpaint).toMatchObject({ task: 'inpaint', mask: png, inpainting_fill: 'latent_noise', inpaint_full_res: false, inpaint_full_res_padding: 16, inpainting_mask_invert: true, mask_blur: 6 });
    expect(img2img({ init_images: [png], mask: png, mask_blur: 9 }).params.mask_blur).toBe(9);
    expect(() => img2img({})).toThrow(RequestValidationError);
    expect(() => img2img({ init_images: ['https://example.com/a.png'] })).toThrow(RequestValidationError);
    expect(() => img2img({ init_images: [png], mask: png, inpainting_fill: 7 })).toThrow(RequestValidationError);
    expect(() => img2img({ init_images: [png], resize_mode: 3 })).toThrow(MissingFeatureError);
  });
});

describe('infotext (A1111 v1.8+ apply_infotext)', () => {
  const text = 'a cat\nNegative prompt: a dog\nSteps: 12, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5, Seed: 99, Size: 64x96, Model hash: 0123456789, Model: a, Clip skip: 2, Hires upscale: 1.5, Hires steps: 4, Version: v1.10.1';
  const known = { checkpoint: (n: string) => findCheckpoint(ctx().checkpoints, n) !== undefined, vae: () => false };

  it('fills the fields the request left unset, and the options it implies', () => {
    const body = { infotext: text, steps: 3 };
    const r = applyInfotext(parseRequest(TXT2IMG_FIELDS, body), new Set(Object.keys(body)), TXT2IMG_FIELDS, known);
    expect(r).toMatchObject({ prompt: 'a cat', negative_prompt: 'a dog', steps: 3, sampler_name: 'DPM++ 2M', scheduler: 'Karras', cfg_scale: 5, seed: 99, width: 64, height: 96, enable_hr: true, hr_scale: 1.5, hr_second_pass_steps: 4, infotext: null });
    expect(r.override_settings).toMatchObject({ sd_model_checkpoint: '0123456789', CLIP_stop_at_last_layers: 2 });
    const caps = ctx({ capabilities: { generate: true, upscale: false, adetailer: false, hires: true } });
    expect(toGenerationInput('txt2img', r, caps).params).toMatchObject({ model: 'a.safetensors', clip_skip: 2, sampler: 'DPM++ 2M', scheduler: 'Karras' });
  });

  it('skips a model it cannot find, and keeps explicit override_settings', () => {
    const body = { infotext: text.replace('0123456789', 'ffffffffff'), override_settings: { CLIP_stop_at_last_layers: 1 } };
    const r = applyInfotext(parseRequest(TXT2IMG_FIELDS, body), new Set(Object.keys(body)), TXT2IMG_FIELDS, known);
    expect(r.override_settings).toEqual({ CLIP_stop_at_last_layers: 1, randn_source: 'GPU' });
  });
});

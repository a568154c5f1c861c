// The request models of A1111's txt2img and img2img (pydantic v1 models generated from the
// StableDiffusionProcessing* dataclasses, A1111 v1.10.1): field names, types, defaults, and
// pydantic v1's lax coercion ("20" → 20, 3.0 → 3, "yes" → true, 5 → "5"), with its error entries
// `{loc, msg, type}` that FastAPI answers as 422. Unknown keys are dropped, as pydantic does.

export type FieldType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'str_list' | 'dict' | 'any';

export interface FieldSpec {
  type: FieldType;
  /** Python default; `null` means the field is Optional (None allowed). */
  default: unknown;
}

export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** Thrown when a request does not fit its model; the route answers 422 `{detail}`. */
export class RequestValidationError extends Error {
  constructor(readonly detail: ValidationDetail[]) {
    super(detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '));
    this.name = 'RequestValidationError';
  }
}

const f = (type: FieldType, def: unknown): FieldSpec => ({ type, default: def });

/** Fields both txt2img and img2img take (StableDiffusionProcessing plus the API-only extras). */
const COMMON: Record<string, FieldSpec> = {
  prompt: f('str', ''),
  negative_prompt: f('str', ''),
  styles: f('str_list', null),
  seed: f('int', -1),
  subseed: f('int', -1),
  subseed_strength: f('float', 0),
  seed_resize_from_h: f('int', -1),
  seed_resize_from_w: f('int', -1),
  sampler_name: f('str', null),
  scheduler: f('str', null),
  batch_size: f('int', 1),
  n_iter: f('int', 1),
  steps: f('int', 50),
  cfg_scale: f('float', 7.0),
  width: f('int', 512),
  height: f('int', 512),
  restore_faces: f('bool', null),
  tiling: f('bool', null),
  do_not_save_samples: f('bool', false),
  do_not_save_grid: f('bool', false),
  eta: f('float', null),
  s_min_uncond: f('float', null),
  s_churn: f('float', null),
  s_tmax: f('float', null),
  s_tmin: f('float', null),
  s_noise: f('float', null),
  override_settings: f('dict', null),
  override_settings_restore_afterwards: f('bool', true),
  refiner_checkpoint: f('str', null),
  refiner_switch_at: f('float', null),
  disable_extra_networks: f('bool', false),
  firstpass_image: f('str', null),
  comments: f('dict', null),
  force_task_id: f('str', null),
  sampler_index: f('str', 'Euler'),
  script_name: f('str', null),
  script_args: f('list', []),
  send_images: f('bool', true),
  save_images: f('bool', false),
  alwayson_scripts: f('dict', {}),
  infotext: f('str', null),
};

export const TXT2IMG_FIELDS: Record<string, FieldSpec> = {
  ...COMMON,
  denoising_strength: f('float', 0.75),
  enable_hr: f('bool', false),
  firstphase_width: f('int', 0),
  firstphase_height: f('int', 0),
  hr_scale: f('float', 2.0),
  hr_upscaler: f('str', null),
  hr_second_pass_steps: f('int', 0),
  hr_resize_x: f('int', 0),
  hr_resize_y: f('int', 0),
  hr_checkpoint_name: f('str', null),
  hr_sampler_name: f('str', null),
  hr_scheduler: f('str', null),
  hr_prompt: f('str', ''),
  hr_negative_prompt: f('str', ''),
};

export const IMG2IMG_FIELDS: Record<string, FieldSpec> = {
  ...COMMON,
  init_images: f('list', null),
  resize_mode: f('int', 0),
  denoising_strength: f('float', 0.75),
  image_cfg_scale: f('float', null),
  mask: f('str', null),
  mask_blur_x: f('int', 4),
  mask_blur_y: f('int', 4),
  mask_blur: f('int', null),
  mask_round: f('bool', true),
  inpainting_fill: f('int', 0),
  inpaint_full_res: f('bool', true),
  inpaint_full_res_padding: f('int', 0),
  inpainting_mask_invert: f('int', 0),
  initial_noise_multiplier: f('float', null),
  latent_mask: f('str', null),
  include_init_images: f('bool', false),
};

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
const INT_TEXT = /^\s*[+-]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

type Coerced = { ok: true; value: unknown } | { ok: false; msg: string; type: string };

/** pydantic v1's validator for one type (`int_validator`, `float_validator`, `str_validator`, ...). */
export function coerce(type: FieldType, v: unknown): Coerced {
  switch (type) {
    case 'int':
      if (typeof v === 'boolean') return { ok: true, value: v ? 1 : 0 };
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: Math.trunc(v) };
      if (typeof v === 'string' && INT_TEXT.test(v)) return { ok: true, value: Number.parseInt(v, 10) };
      return { ok: false, msg: 'value is not a valid integer', type: 'type_error.integer' };
    case 'float':
      if (typeof v === 'boolean') return { ok: true, value: v ? 1 : 0 };
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: v };
      if (typeof v === 'string' && FLOAT_TEXT.test(v)) return { ok: true, value: Number.parseFloat(v) };
      return { ok: false, msg: 'value is not a valid float', type: 'type_error.float' };
    case 'str':
      if (typeof v === 'string') return { ok: true, value: v };
      if (typeof v === 'number') return { ok: true, value: String(v) };
      return { ok: false, msg: 'str type expected', type: 'type_error.str' };
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      if (typeof v === 'string' && TRUE_WORDS.has(v.toLowerCase())) return { ok: true, value: true };
      if (typeof v === 'string' && FALSE_WORDS.has(v.toLowerCase())) return { ok: true, value: false };
      return { ok: false, msg: 'value could not be parsed to a boolean', type: 'type_error.bool' };
    case 'list':
      return Array.isArray(v) ? { ok: true, value: v } : { ok: false, msg: 'value is not a valid list', type: 'type_error.list' };
    case 'str_list':
      return Array.isArray(v) ? { ok: true, value: v } : { ok: false, msg: 'value is not a valid list', type: 'type_error.list' };
    case 'dict':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? { ok: true, value: v }
        : { ok: false, msg: 'value is not a valid dict', type: 'type_error.dict' };
    case 'any':
      return { ok: true, value: v };
  }
}

/**
 * Validates a request body against a model: every field of the model comes back (defaults
 * filled), unknown keys are dropped, and all errors are gathered as FastAPI lists them.
 *
 * @example parseRequest(TXT2IMG_FIELDS, { steps: '20', foo: 1 }) // { steps: 20, prompt: '', ... }
 */
export function parseRequest(fields: Record<string, FieldSpec>, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestValidationError([{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]);
  }
  const input = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const detail: ValidationDetail[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const v = input[name];
    if (v === undefined) {
      out[name] = structuredClone(spec.default);
      continue;
    }
    if (v === null) {
      if (spec.default === null) out[name] = null;
      else detail.push({ loc: ['body', name], msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' });
      continue;
    }
    const c = coerce(spec.type, v);
    if (!c.ok) {
      detail.push({ loc: ['body', name], msg: c.msg, type: c.type });
      continue;
    }
    if (spec.type === 'str_list') {
      const items = (c.value as unknown[]).map((item) => coerce('str', item));
      items.forEach((item, i) => {
        if (!item.ok) detail.push({ loc: ['body', name, i], msg: item.msg, type: item.type });
      });
      out[name] = items.map((item) => (item.ok ? item.value : null));
      continue;
    }
    out[name] = c.value;
  }
  if (detail.length > 0) throw new RequestValidationError(detail);
  return out;
}

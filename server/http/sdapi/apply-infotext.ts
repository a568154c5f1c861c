// A1111 v1.8+'s `infotext` request field (`processing.apply_infotext`): the infotext is parsed with
// A1111's own parser and fills every field the request did not set, plus the override settings it
// implies (clip skip, model hash, VAE, RNG). One paste of a PNG's or Civitai's text regenerates it.
import { parseGenerationParameters, type InfotextFieldValue } from '../../infotext/index.js';
import { coerce, type FieldSpec } from './a1111-request.js';

/** Infotext label → request field (A1111's paste fields of txt2img/img2img). */
const FIELD_OF_LABEL: [string, string][] = [
  ['Prompt', 'prompt'],
  ['Negative prompt', 'negative_prompt'],
  ['Steps', 'steps'],
  ['Sampler', 'sampler_name'],
  ['Schedule type', 'scheduler'],
  ['CFG scale', 'cfg_scale'],
  ['Seed', 'seed'],
  ['Size-1', 'width'],
  ['Size-2', 'height'],
  ['Denoising strength', 'denoising_strength'],
  ['Variation seed', 'subseed'],
  ['Variation seed strength', 'subseed_strength'],
  ['Hires upscale', 'hr_scale'],
  ['Hires steps', 'hr_second_pass_steps'],
  ['Hires upscaler', 'hr_upscaler'],
  ['Hires resize-1', 'hr_resize_x'],
  ['Hires resize-2', 'hr_resize_y'],
  ['Hires sampler', 'hr_sampler_name'],
  ['Hires schedule type', 'hr_scheduler'],
  ['Hires prompt', 'hr_prompt'],
  ['Hires negative prompt', 'hr_negative_prompt'],
  ['Mask blur', 'mask_blur'],
  ['Masked area padding', 'inpaint_full_res_padding'],
  // A1111 maps it to the `initial_noise_multiplier` option, which an API request reads before its
  // override_settings apply; Easel fills the img2img field so the pasted value takes effect.
  ['Noise multiplier', 'initial_noise_multiplier'],
];

/** Infotext label → option (A1111 `OptionInfo(infotext=...)`), set only when the request's override_settings lacks it. */
const OPTION_OF_LABEL: [string, string][] = [
  ['Clip skip', 'CLIP_stop_at_last_layers'],
  ['Model hash', 'sd_model_checkpoint'],
  ['VAE', 'sd_vae'],
  ['RNG', 'randn_source'],
];

/**
 * Returns the request with the infotext's values in every field the body did not set.
 *
 * @example applyInfotext(parsed, new Set(Object.keys(body)), TXT2IMG_FIELDS)
 */
export interface KnownModels {
  /** Does a local checkpoint answer to this name or hash? */
  checkpoint(nameOrHash: string): boolean;
  vae(name: string): boolean;
}

export function applyInfotext(
  request: Record<string, unknown>,
  explicit: ReadonlySet<string>,
  fields: Record<string, FieldSpec>,
  known: KnownModels,
): Record<string, unknown> {
  const text = request.infotext;
  if (typeof text !== 'string' || text.trim() === '') return request;
  const parsed = parseGenerationParameters(text).fields;
  const out = { ...request };
  const set = (field: string, value: InfotextFieldValue | undefined): void => {
    const spec = fields[field];
    if (!spec || explicit.has(field) || value === undefined) return;
    const c = coerce(spec.type, value);
    if (c.ok) out[field] = c.value;
  };
  for (const [label, field] of FIELD_OF_LABEL) set(field, parsed[label]);
  // "Use same ..." and A1111's injected defaults mean: nothing to set.
  for (const f of ['hr_sampler_name', 'hr_scheduler']) if (typeof out[f] === 'string' && String(out[f]).startsWith('Use same')) out[f] = null;
  if (!explicit.has('enable_hr') && 'enable_hr' in fields && (parsed['Hires upscale'] !== undefined || Number(parsed['Hires resize-1'] ?? 0) > 0)) out.enable_hr = true;
  const overrides = { ...((request.override_settings as Record<string, unknown> | null) ?? {}) };
  for (const [label, option] of OPTION_OF_LABEL) {
    const v = parsed[label];
    if (v === undefined || option in overrides) continue;
    // A model or VAE that is not here is skipped, as A1111 skips a checkpoint it cannot match.
    if (option === 'sd_model_checkpoint' && !known.checkpoint(String(v))) continue;
    if (option === 'sd_vae' && !known.vae(String(v))) continue;
    if (option === 'CLIP_stop_at_last_layers') overrides[option] = Number(v);
    else if (option === 'randn_source') overrides[option] = String(v) === 'CPU' ? 'CPU' : 'GPU';
    else overrides[option] = String(v);
  }
  out.override_settings = overrides;
  out.infotext = null;
  return out;
}

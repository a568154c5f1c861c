// A1111 txt2img/img2img requests (already shaped by a1111-request.ts) → Easel GenerationParams
// input, which then goes through the very schema the socket `generate` uses. Features Easel lacks
// answer a coded 501 naming them instead of being dropped; hires fix and ADetailer are translated
// in full and gated only by the worker's capability flags, so they work once the flags turn on.
import type { z } from 'zod';
import type { WorkerCapabilities } from '../../../native/worker-protocol.js';
import type { ModelEntry } from '../../protocol/actions.js';
import { EaselError, issuePath } from '../../protocol/errors.js';
import { refusedUnitOption } from '../../protocol/adetailer.js';
import { BBOX_SORTBY } from '../../../native/adetailer/args.js';
import { RequestValidationError, type ValidationDetail } from './a1111-request.js';
import { findCheckpoint, findVae } from './model-titles.js';
import { controlNetUnitsFromArgs } from './controlnet-args.js';
import type { SdapiOptions } from './options-store.js';

/** A feature the request asks for that this build (or this worker) cannot do: HTTP 501. */
export class MissingFeatureError extends EaselError {
  constructor(
    readonly feature: string,
    message: string,
  ) {
    super('not_implemented', message, { field: feature });
    this.name = 'MissingFeatureError';
  }
}

export interface TranslateContext {
  capabilities: WorkerCapabilities | undefined;
  options: Readonly<SdapiOptions>;
  checkpoints: readonly ModelEntry[];
  vaes: readonly ModelEntry[];
}

export interface Translation {
  /** GenerationParams input for the `generate` schema. */
  params: Record<string, unknown>;
  /** A1111 location of each Easel field, for turning Easel's validation errors into 422 details. */
  locOf: (easelPath: readonly PropertyKey[]) => (string | number)[];
}

/** Easel's `inpainting_fill` names by A1111's number. */
export const INPAINTING_FILL = ['fill', 'original', 'latent_noise', 'latent_nothing'] as const;

const SAME_SAMPLER = 'Use same sampler';
const SAME_SCHEDULER = 'Use same scheduler';
const SAME_CHECKPOINT = 'Use same checkpoint';

const invalid = (loc: (string | number)[], msg: string): RequestValidationError =>
  new RequestValidationError([{ loc: ['body', ...loc], msg, type: 'value_error' }]);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const sameOr = (v: unknown, same: string): string | undefined => {
  const s = str(v);
  return s && s !== same ? s : undefined;
};

/** A1111's always-on script entries, by lower-cased title. */
function scripts(r: Record<string, unknown>): Map<string, { title: string; args: unknown[] }> {
  const out = new Map<string, { title: string; args: unknown[] }>();
  const raw = (r.alwayson_scripts ?? {}) as Record<string, unknown>;
  for (const [title, v] of Object.entries(raw)) {
    const args = typeof v === 'object' && v !== null && Array.isArray((v as { args?: unknown }).args) ? (v as { args: unknown[] }).args : [];
    out.set(title.toLowerCase(), { title, args });
  }
  return out;
}

/**
 * ADetailer's API args `[enable?, skip_img2img?, {ad_model, ...}, ...]` → Easel's `adetailer`
 * units (ADetailer's own `ad_*` names), with the arg index of each unit for error locations. As
 * ADetailer reads them: `enable` is args[0] when it is a bool, `skip_img2img` args[1] when it is a
 * bool, and the tabs are every dict in order — skipped tabs (`ad_model` "None", `ad_tab_enable`
 * false) stay in place so later tabs keep their " 2nd"/" 3rd" infotext suffixes. No units when
 * ADetailer is off or every tab is skipped (is_ad_enabled).
 */
export function adetailerUnits(args: readonly unknown[]): { units: Record<string, unknown>[]; argIndex: number[]; skipImg2img: boolean } {
  const enabled = typeof args[0] === 'boolean' ? args[0] : true;
  const skipImg2img = args.length >= 2 && typeof args[1] === 'boolean' ? args[1] : false;
  const units: Record<string, unknown>[] = [];
  const argIndex: number[] = [];
  for (const [k, a] of args.entries()) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    const unit = a as Record<string, unknown>;
    units.push(unit.ad_model === undefined ? { ...unit, ad_model: 'None' } : unit);
    argIndex.push(k);
  }
  const active = units.some((u) => u.ad_model !== 'None' && u.ad_tab_enable !== false);
  return enabled && active ? { units, argIndex, skipImg2img } : { units: [], argIndex: [], skipImg2img };
}

/** ADetailer's global `ad_bbox_sortby` (override_settings, else the stored option) for tabs that name none. */
function withSortBy(units: Record<string, unknown>[], r: Record<string, unknown>, ctx: TranslateContext): Record<string, unknown>[] {
  const o = overrideSettings(r).ad_bbox_sortby;
  if (o !== undefined && !(typeof o === 'string' && (BBOX_SORTBY as readonly string[]).includes(o))) {
    throw invalid(['override_settings', 'ad_bbox_sortby'], `must be one of ${BBOX_SORTBY.join(', ')}`);
  }
  const sortby = (o as string | undefined) ?? ctx.options.ad_bbox_sortby;
  return sortby === 'None' ? units : units.map((u) => ('ad_bbox_sortby' in u ? u : { ...u, ad_bbox_sortby: sortby }));
}

function overrideSettings(r: Record<string, unknown>): Record<string, unknown> {
  const o = r.override_settings;
  return typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : {};
}

/** Fails with 501 for the A1111 features Easel cannot do at all (never silently dropped). */
function refuseMissing(kind: 'txt2img' | 'img2img', r: Record<string, unknown>, caps: WorkerCapabilities | undefined): void {
  if (r.restore_faces === true) throw new MissingFeatureError('restore_faces', 'face restoration (restore_faces) is not available in Easel');
  if (r.tiling === true) throw new MissingFeatureError('tiling', 'seamless tiling (tiling) is not available in Easel');
  if (sameOr(r.refiner_checkpoint, 'None')) throw new MissingFeatureError('refiner', 'the refiner (refiner_checkpoint) is not available in Easel');
  if (typeof r.subseed_strength === 'number' && r.subseed_strength > 0) {
    throw new MissingFeatureError('variation_seed', 'variation seeds (subseed_strength > 0) are not available in Easel');
  }
  if (str(r.firstpass_image)) throw new MissingFeatureError('firstpass_image', 'firstpass_image is not available in Easel');
  const script = str(r.script_name);
  if (script) throw invalid(['script_name'], `Script '${script}' not found`);
  for (const [key, s] of scripts(r)) {
    if (key === 'adetailer') continue;
    if (s.args.length === 0) continue;
    if (key === 'controlnet') {
      const enabled = controlNetUnitsFromArgs(s.args).units.some((u) => u.enabled !== false);
      if (enabled && !caps?.controlnet) throw new MissingFeatureError('controlnet', 'ControlNet (alwayson_scripts.controlnet) is not available in this build yet');
      continue;
    }
    throw invalid(['alwayson_scripts', s.title], `always on script ${s.title} not found`);
  }
  if (kind === 'txt2img' && r.enable_hr === true) {
    if (!caps?.hires) throw new MissingFeatureError('hires', 'hires fix (enable_hr) is not available in this build yet');
    if (sameOr(r.hr_checkpoint_name, SAME_CHECKPOINT)) throw new MissingFeatureError('hr_checkpoint_name', 'a separate hires checkpoint (hr_checkpoint_name) is not available in Easel');
  }
  const ad = scripts(r).get('adetailer');
  if (ad && adetailerUnits(ad.args).units.length > 0 && !caps?.adetailer) {
    throw new MissingFeatureError('adetailer', 'ADetailer (alwayson_scripts.ADetailer) is not available in this build yet');
  }
  const adArgs = ad ? adetailerUnits(ad.args) : undefined;
  const refusedAd = refusedUnitOption(adArgs?.units, 'adetailer');
  if (refusedAd) throw new MissingFeatureError(refusedAd.option, refusedAd.message);
  // skip_img2img (img2img only; ADetailer turns itself off for inpainting instead) replaces the
  // img2img pass by a 1-step 128² one and runs ADetailer on the raw init image.
  if (kind === 'img2img' && adArgs?.skipImg2img && adArgs.units.length > 0 && !str(r.mask)) {
    throw new MissingFeatureError('adetailer_skip_img2img', 'ADetailer skip img2img (alwayson_scripts.ADetailer.args[1] = true) is not available through /sdapi/v1; use the adetailer action on the image');
  }
  if (kind === 'img2img') {
    if (r.resize_mode === 3) throw new MissingFeatureError('resize_mode', 'resize_mode 3 (just resize, latent upscale) is not available in Easel');
    if (str(r.latent_mask)) throw new MissingFeatureError('latent_mask', 'latent_mask is not available in Easel');
  }
}

/** override_settings and the stored options → model, vae, clip_skip, rng. */
function settings(r: Record<string, unknown>, ctx: TranslateContext): Record<string, unknown> {
  const o = overrideSettings(r);
  const out: Record<string, unknown> = {};
  const ckpt = o.sd_model_checkpoint ?? ctx.options.sd_model_checkpoint;
  if (ckpt !== undefined && ckpt !== null) {
    if (typeof ckpt !== 'string') throw invalid(['override_settings', 'sd_model_checkpoint'], 'str type expected');
    const m = findCheckpoint(ctx.checkpoints, ckpt);
    if (!m) throw invalid(['override_settings', 'sd_model_checkpoint'], `model '${ckpt}' not found`);
    out.model = m.name;
  }
  const vae = o.sd_vae ?? ctx.options.sd_vae;
  if (vae !== undefined && vae !== null) {
    if (typeof vae !== 'string') throw invalid(['override_settings', 'sd_vae'], 'str type expected');
    if (vae === 'Automatic' || vae === 'None') out.vae = vae;
    else {
      const m = findVae(ctx.vaes, vae);
      if (!m) throw invalid(['override_settings', 'sd_vae'], `VAE '${vae}' not found`);
      out.vae = m.name;
    }
  }
  out.clip_skip = o.CLIP_stop_at_last_layers ?? ctx.options.CLIP_stop_at_last_layers;
  const ensd = o.eta_noise_seed_delta ?? ctx.options.eta_noise_seed_delta;
  if (ensd !== 0 && ensd !== '0') throw new MissingFeatureError('eta_noise_seed_delta', 'a non-zero eta_noise_seed_delta is not available in Easel');
  const rng = o.randn_source ?? ctx.options.randn_source;
  if (rng !== 'GPU' && rng !== 'NV' && rng !== 'CPU') throw invalid(['override_settings', 'randn_source'], 'must be GPU, CPU or NV');
  out.rng = rng === 'CPU' ? 'cpu' : 'nv';
  return out;
}

function hiresOf(r: Record<string, unknown>): Record<string, unknown> {
  const sampler = sameOr(r.hr_sampler_name, SAME_SAMPLER);
  const scheduler = sameOr(r.hr_scheduler, SAME_SCHEDULER);
  return {
    enabled: true,
    scale: r.hr_scale,
    upscaler: str(r.hr_upscaler) ?? 'Latent',
    steps: r.hr_second_pass_steps,
    denoising_strength: r.denoising_strength ?? 0.75,
    width: r.hr_resize_x,
    height: r.hr_resize_y,
    ...(sampler ? { sampler } : {}),
    ...(scheduler ? { scheduler } : {}),
    ...(str(r.hr_prompt) ? { prompt: r.hr_prompt } : {}),
    ...(str(r.hr_negative_prompt) ? { negative_prompt: r.hr_negative_prompt } : {}),
  };
}

const HIRES_LOC: Record<string, string> = {
  scale: 'hr_scale',
  upscaler: 'hr_upscaler',
  steps: 'hr_second_pass_steps',
  denoising_strength: 'denoising_strength',
  width: 'hr_resize_x',
  height: 'hr_resize_y',
  sampler: 'hr_sampler_name',
  scheduler: 'hr_scheduler',
  prompt: 'hr_prompt',
  negative_prompt: 'hr_negative_prompt',
};

const TOP_LOC: Record<string, (string | number)[]> = {
  image: ['init_images', 0],
  strength: ['denoising_strength'],
  sampler: ['sampler_name'],
  model: ['override_settings', 'sd_model_checkpoint'],
  vae: ['override_settings', 'sd_vae'],
  clip_skip: ['override_settings', 'CLIP_stop_at_last_layers'],
  rng: ['override_settings', 'randn_source'],
};

/**
 * Translates one validated A1111 request.
 *
 * @example toGenerationInput('txt2img', parseRequest(TXT2IMG_FIELDS, body), ctx).params
 */
export function toGenerationInput(kind: 'txt2img' | 'img2img', r: Record<string, unknown>, ctx: TranslateContext): Translation {
  refuseMissing(kind, r, ctx.capabilities);
  const params: Record<string, unknown> = {
    task: 'txt2img',
    prompt: r.prompt,
    negative_prompt: r.negative_prompt,
    width: r.width,
    height: r.height,
    steps: r.steps,
    cfg_scale: r.cfg_scale,
    sampler: str(r.sampler_name) ?? str(r.sampler_index) ?? 'Euler',
    seed: r.seed,
    batch_size: r.batch_size,
    n_iter: r.n_iter,
    ...settings(r, ctx),
  };
  if (str(r.scheduler)) params.scheduler = r.scheduler;
  if (kind === 'txt2img' && r.enable_hr === true) params.hires = hiresOf(r);
  const ad = scripts(r).get('adetailer');
  const adUnits = ad ? adetailerUnits(ad.args) : { units: [], argIndex: [], skipImg2img: false };
  // ADetailer: "img2img inpainting with skip img2img is not supported" — it turns itself off.
  const adOff = kind === 'img2img' && adUnits.skipImg2img && str(r.mask) !== undefined;
  if (adUnits.units.length > 0 && !adOff) params.adetailer = withSortBy(adUnits.units, r, ctx);
  const cn = scripts(r).get('controlnet');
  const cnUnits = cn ? controlNetUnitsFromArgs(cn.args) : { units: [], argIndex: [] };
  if (cnUnits.units.length > 0) params.controlnet = cnUnits.units;

  if (kind === 'img2img') {
    const init = r.init_images;
    if (!Array.isArray(init) || init.length === 0) throw invalid(['init_images'], 'field required');
    if (typeof init[0] !== 'string') throw invalid(['init_images', 0], 'str type expected');
    if (/^https?:\/\//i.test(init[0])) throw invalid(['init_images', 0], 'image URLs are not accepted; send base64');
    params.task = str(r.mask) ? 'inpaint' : 'img2img';
    params.image = init[0];
    params.strength = r.denoising_strength;
    params.resize_mode = r.resize_mode;
    // None = A1111's option (1.0; Easel has no global noise-multiplier option).
    if (typeof r.initial_noise_multiplier === 'number') params.initial_noise_multiplier = r.initial_noise_multiplier;
    if (str(r.mask)) {
      params.mask = r.mask;
      params.mask_blur = r.mask_blur ?? r.mask_blur_x;
      const fill = INPAINTING_FILL[r.inpainting_fill as number];
      if (!fill) throw invalid(['inpainting_fill'], `must be 0, 1, 2 or 3, got ${String(r.inpainting_fill)}`);
      params.inpainting_fill = fill;
      params.inpaint_full_res = r.inpaint_full_res;
      params.inpaint_full_res_padding = r.inpaint_full_res_padding;
      if (r.inpainting_mask_invert !== 0 && r.inpainting_mask_invert !== 1) {
        throw invalid(['inpainting_mask_invert'], `must be 0 or 1, got ${String(r.inpainting_mask_invert)}`);
      }
      params.inpainting_mask_invert = r.inpainting_mask_invert === 1;
    }
  }

  const locOf = (path: readonly PropertyKey[]): (string | number)[] => {
    const [head, ...rest] = path.map((p) => (typeof p === 'number' ? p : String(p)));
    if (head === undefined) return [];
    if (head === 'hires' && typeof rest[0] === 'string') return [HIRES_LOC[rest[0]] ?? rest[0], ...rest.slice(1)];
    if (head === 'controlnet' && typeof rest[0] === 'number') return ['alwayson_scripts', cn?.title ?? 'controlnet', 'args', cnUnits.argIndex[rest[0]] ?? rest[0], ...rest.slice(1)];
    if (head === 'adetailer' && typeof rest[0] === 'number') return ['alwayson_scripts', ad?.title ?? 'ADetailer', 'args', adUnits.argIndex[rest[0]] ?? rest[0], ...rest.slice(1)];
    return [...(TOP_LOC[head] ?? [head]), ...rest];
  };
  return { params, locOf };
}

/** Easel's zod issues of the translated params → FastAPI details at A1111 locations. */
export function zodIssuesToDetail(err: z.ZodError, locOf: Translation['locOf']): ValidationDetail[] {
  return err.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // Only fields Easel gained from a translation can be unknown (e.g. ADetailer args it lacks).
      const key = issue.keys[0] ?? '';
      return { loc: ['body', ...locOf([...issue.path, key])], msg: `unknown field "${issuePath([...issue.path, key])}"`, type: 'value_error.extra' };
    }
    return { loc: ['body', ...locOf(issue.path)], msg: issue.message, type: 'value_error' };
  });
}

// ADetailer v25.3.0's per-tab arguments (adetailer/args.py ADetailerArgs) with their defaults, and
// the infotext it writes: `extra_params` (every key, then the ppop rules that drop defaults), the
// " 2nd" / " 3rd" suffixes of later tabs, `ADetailer version`, and the reverse (png-info → units).
// No imports: the web app and the infotext reader use this module too.

export const MASK_FILTER_METHODS = ['Area', 'Confidence'] as const;
export type MaskFilterMethod = (typeof MASK_FILTER_METHODS)[number];
export const BBOX_SORTBY = ['None', 'Position (left to right)', 'Position (center to edge)', 'Area (large to small)'] as const;
export type BboxSortBy = (typeof BBOX_SORTBY)[number];
export const MASK_MERGE_INVERT = ['None', 'Merge', 'Merge and Invert'] as const;
export type MaskMergeInvert = (typeof MASK_MERGE_INVERT)[number];


export const ADETAILER_VERSION = '25.3.0';
/** Tabs per job (ADetailer's `ad_max_models` default). */
export const MAX_ADETAILER_UNITS = 4;

export interface ADetailerArgs {
  ad_model: string;
  ad_model_classes: string;
  ad_tab_enable: boolean;
  ad_prompt: string;
  ad_negative_prompt: string;
  ad_confidence: number;
  ad_mask_filter_method: MaskFilterMethod;
  ad_mask_k: number;
  ad_mask_min_ratio: number;
  ad_mask_max_ratio: number;
  ad_dilate_erode: number;
  ad_x_offset: number;
  ad_y_offset: number;
  ad_mask_merge_invert: MaskMergeInvert;
  ad_mask_blur: number;
  ad_denoising_strength: number;
  ad_inpaint_only_masked: boolean;
  ad_inpaint_only_masked_padding: number;
  ad_use_inpaint_width_height: boolean;
  ad_inpaint_width: number;
  ad_inpaint_height: number;
  ad_use_steps: boolean;
  ad_steps: number;
  ad_use_cfg_scale: boolean;
  ad_cfg_scale: number;
  ad_use_checkpoint: boolean;
  ad_checkpoint: string | null;
  ad_use_vae: boolean;
  ad_vae: string | null;
  ad_use_sampler: boolean;
  ad_sampler: string;
  ad_scheduler: string;
  ad_use_noise_multiplier: boolean;
  ad_noise_multiplier: number;
  ad_use_clip_skip: boolean;
  ad_clip_skip: number;
  ad_restore_face: boolean;
  ad_controlnet_model: string;
  ad_controlnet_module: string;
  ad_controlnet_weight: number;
  ad_controlnet_guidance_start: number;
  ad_controlnet_guidance_end: number;
  /** A1111 setting `ad_bbox_sortby` (global there; per unit here). Not written to the infotext. */
  ad_bbox_sortby: BboxSortBy;
}

export const ADETAILER_DEFAULTS: Readonly<ADetailerArgs> = {
  ad_model: 'None',
  ad_model_classes: '',
  ad_tab_enable: true,
  ad_prompt: '',
  ad_negative_prompt: '',
  ad_confidence: 0.3,
  ad_mask_filter_method: 'Area',
  ad_mask_k: 0,
  ad_mask_min_ratio: 0.0,
  ad_mask_max_ratio: 1.0,
  ad_dilate_erode: 4,
  ad_x_offset: 0,
  ad_y_offset: 0,
  ad_mask_merge_invert: 'None',
  ad_mask_blur: 4,
  ad_denoising_strength: 0.4,
  ad_inpaint_only_masked: true,
  ad_inpaint_only_masked_padding: 32,
  ad_use_inpaint_width_height: false,
  ad_inpaint_width: 512,
  ad_inpaint_height: 512,
  ad_use_steps: false,
  ad_steps: 28,
  ad_use_cfg_scale: false,
  ad_cfg_scale: 7.0,
  ad_use_checkpoint: false,
  ad_checkpoint: null,
  ad_use_vae: false,
  ad_vae: null,
  ad_use_sampler: false,
  ad_sampler: 'DPM++ 2M Karras',
  ad_scheduler: 'Use same scheduler',
  ad_use_noise_multiplier: false,
  ad_noise_multiplier: 1.0,
  ad_use_clip_skip: false,
  ad_clip_skip: 1,
  ad_restore_face: false,
  ad_controlnet_model: 'None',
  ad_controlnet_module: 'None',
  ad_controlnet_weight: 1.0,
  ad_controlnet_guidance_start: 0.0,
  ad_controlnet_guidance_end: 1.0,
  ad_bbox_sortby: 'None',
};

/** A unit with ADetailer's defaults under whatever the caller gave. */
export function withDefaults(unit: Partial<ADetailerArgs>): ADetailerArgs {
  const out = { ...ADETAILER_DEFAULTS } as Record<string, unknown>;
  for (const [k, v] of Object.entries(unit)) if (v !== undefined && k in ADETAILER_DEFAULTS) out[k] = v;
  return out as unknown as ADetailerArgs;
}

/** ADetailerArgs.need_skip */
export function needSkip(a: Pick<ADetailerArgs, 'ad_model' | 'ad_tab_enable'>): boolean {
  return a.ad_model === 'None' || a.ad_tab_enable === false;
}

/** Why `ad_restore_face` is refused: the same words in the engine, the server, /sdapi and the PWA. */
export const RESTORE_FACE_UNAVAILABLE =
  'face restoration after ADetailer (ad_restore_face) needs a GFPGAN/CodeFormer face restorer, which Easel does not have; turn it off';

/**
 * The first option of an enabled unit that Easel refuses with `not_implemented` (never silently
 * ignored), or undefined. A skipped unit (`ad_model` "None", `ad_tab_enable` false) is never checked,
 * as ADetailer never reads it.
 */
export function unsupportedOption(u: Partial<ADetailerArgs>): { field: keyof ADetailerArgs; message: string } | undefined {
  if (u.ad_model === undefined || needSkip({ ad_model: u.ad_model, ad_tab_enable: u.ad_tab_enable ?? true })) return undefined;
  if (u.ad_restore_face === true) return { field: 'ad_restore_face', message: RESTORE_FACE_UNAVAILABLE };
  const cn = u.ad_controlnet_model;
  if (cn !== undefined && cn !== 'None' && cn !== 'Passthrough') {
    return { field: 'ad_controlnet_model', message: `ADetailer ControlNet units (ad_controlnet_model "${cn}") are not available in Easel; use "None"` };
  }
  return undefined;
}

// (attr, infotext name) in ADetailer's order (_all_args)
const ALL_ARGS: ReadonlyArray<readonly [keyof ADetailerArgs, string]> = [
  ['ad_model', 'ADetailer model'],
  ['ad_model_classes', 'ADetailer model classes'],
  ['ad_tab_enable', 'ADetailer tab enable'],
  ['ad_prompt', 'ADetailer prompt'],
  ['ad_negative_prompt', 'ADetailer negative prompt'],
  ['ad_confidence', 'ADetailer confidence'],
  ['ad_mask_filter_method', 'ADetailer method to decide top k masks'],
  ['ad_mask_k', 'ADetailer mask only top k'],
  ['ad_mask_min_ratio', 'ADetailer mask min ratio'],
  ['ad_mask_max_ratio', 'ADetailer mask max ratio'],
  ['ad_x_offset', 'ADetailer x offset'],
  ['ad_y_offset', 'ADetailer y offset'],
  ['ad_dilate_erode', 'ADetailer dilate erode'],
  ['ad_mask_merge_invert', 'ADetailer mask merge invert'],
  ['ad_mask_blur', 'ADetailer mask blur'],
  ['ad_denoising_strength', 'ADetailer denoising strength'],
  ['ad_inpaint_only_masked', 'ADetailer inpaint only masked'],
  ['ad_inpaint_only_masked_padding', 'ADetailer inpaint padding'],
  ['ad_use_inpaint_width_height', 'ADetailer use inpaint width height'],
  ['ad_inpaint_width', 'ADetailer inpaint width'],
  ['ad_inpaint_height', 'ADetailer inpaint height'],
  ['ad_use_steps', 'ADetailer use separate steps'],
  ['ad_steps', 'ADetailer steps'],
  ['ad_use_cfg_scale', 'ADetailer use separate CFG scale'],
  ['ad_cfg_scale', 'ADetailer CFG scale'],
  ['ad_use_checkpoint', 'ADetailer use separate checkpoint'],
  ['ad_checkpoint', 'ADetailer checkpoint'],
  ['ad_use_vae', 'ADetailer use separate VAE'],
  ['ad_vae', 'ADetailer VAE'],
  ['ad_use_sampler', 'ADetailer use separate sampler'],
  ['ad_sampler', 'ADetailer sampler'],
  ['ad_scheduler', 'ADetailer scheduler'],
  ['ad_use_noise_multiplier', 'ADetailer use separate noise multiplier'],
  ['ad_noise_multiplier', 'ADetailer noise multiplier'],
  ['ad_use_clip_skip', 'ADetailer use separate CLIP skip'],
  ['ad_clip_skip', 'ADetailer CLIP skip'],
  ['ad_restore_face', 'ADetailer restore face'],
  ['ad_controlnet_model', 'ADetailer ControlNet model'],
  ['ad_controlnet_module', 'ADetailer ControlNet module'],
  ['ad_controlnet_weight', 'ADetailer ControlNet weight'],
  ['ad_controlnet_guidance_start', 'ADetailer ControlNet guidance start'],
  ['ad_controlnet_guidance_end', 'ADetailer ControlNet guidance end'],
];

/** Pydantic float fields: Python prints them with a decimal point (`7.0`, `1.0`). */
const FLOAT_FIELDS = new Set<keyof ADetailerArgs>([
  'ad_confidence', 'ad_mask_min_ratio', 'ad_mask_max_ratio', 'ad_denoising_strength', 'ad_cfg_scale', 'ad_noise_multiplier',
  'ad_controlnet_weight', 'ad_controlnet_guidance_start', 'ad_controlnet_guidance_end',
]);

/** Python's str() of a float. */
export function pyFloat(v: number): string {
  if (Number.isInteger(v)) return `${v}.0`;
  const s = String(v);
  return /e/.test(s) ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

type Value = string | number | boolean | null;

/** ADetailer's ordinal suffix: "" for the first tab, " 2nd", " 3rd", " 4th". */
export function tabSuffix(n: number): string {
  if (n === 0) return '';
  const k = n + 1;
  const d: Record<number, string> = { 1: 'st', 2: 'nd', 3: 'rd' };
  return ` ${k}${k % 100 >= 11 && k % 100 <= 13 ? 'th' : (d[k % 10] ?? 'th')}`;
}

/** ADetailerArgs.extra_params(suffix): the infotext keys one tab writes, in order. */
export function unitExtraParams(a: ADetailerArgs, suffix = ''): [string, Value][] {
  if (needSkip(a)) return [];
  const p = new Map<string, Value>();
  for (const [attr, name] of ALL_ARGS) {
    const v = a[attr] as Value;
    p.set(name, typeof v === 'number' && FLOAT_FIELDS.has(attr) ? pyFloat(v) : v);
  }
  const raw = new Map<string, Value>(ALL_ARGS.map(([attr, name]) => [name, a[attr] as Value]));
  // ppop(key, pops, cond): cond None → falsy value; else equality with cond
  const ppop = (key: string, pops: string[] = [key], cond?: Value) => {
    if (!p.has(key)) return;
    const v = raw.get(key)!;
    const hit = cond === undefined ? !v : v === cond;
    if (hit) for (const k of pops) p.delete(k);
  };
  ppop('ADetailer model classes');
  ppop('ADetailer prompt');
  ppop('ADetailer negative prompt');
  p.delete('ADetailer tab enable');
  ppop('ADetailer mask only top k', ['ADetailer mask only top k', 'ADetailer method to decide top k masks'], 0);
  ppop('ADetailer mask min ratio', undefined, 0);
  ppop('ADetailer mask max ratio', undefined, 1);
  ppop('ADetailer x offset', undefined, 0);
  ppop('ADetailer y offset', undefined, 0);
  ppop('ADetailer mask merge invert', undefined, 'None');
  ppop('ADetailer inpaint only masked', ['ADetailer inpaint padding']);
  ppop('ADetailer use inpaint width height', ['ADetailer use inpaint width height', 'ADetailer inpaint width', 'ADetailer inpaint height']);
  ppop('ADetailer use separate steps', ['ADetailer use separate steps', 'ADetailer steps']);
  ppop('ADetailer use separate CFG scale', ['ADetailer use separate CFG scale', 'ADetailer CFG scale']);
  ppop('ADetailer use separate checkpoint', ['ADetailer use separate checkpoint', 'ADetailer checkpoint']);
  ppop('ADetailer use separate VAE', ['ADetailer use separate VAE', 'ADetailer VAE']);
  ppop('ADetailer use separate sampler', ['ADetailer use separate sampler', 'ADetailer sampler', 'ADetailer scheduler']);
  ppop('ADetailer scheduler', undefined, 'Use same scheduler');
  ppop('ADetailer use separate noise multiplier', ['ADetailer use separate noise multiplier', 'ADetailer noise multiplier']);
  ppop('ADetailer use separate CLIP skip', ['ADetailer use separate CLIP skip', 'ADetailer CLIP skip']);
  ppop('ADetailer restore face');
  ppop(
    'ADetailer ControlNet model',
    ['ADetailer ControlNet model', 'ADetailer ControlNet module', 'ADetailer ControlNet weight', 'ADetailer ControlNet guidance start', 'ADetailer ControlNet guidance end'],
    'None',
  );
  ppop('ADetailer ControlNet module', undefined, 'None');
  ppop('ADetailer ControlNet weight', undefined, 1);
  ppop('ADetailer ControlNet guidance start', undefined, 0);
  ppop('ADetailer ControlNet guidance end', undefined, 1);
  return [...p].map(([k, v]) => [k + suffix, v]);
}

/** AfterDetailerScript.extra_params: every tab's keys with its suffix, then `ADetailer version`. */
export function adetailerExtraParams(units: readonly ADetailerArgs[]): [string, string | number][] {
  const out: [string, string | number][] = [];
  units.forEach((u, n) => {
    for (const [k, v] of unitExtraParams(u, tabSuffix(n))) {
      if (v === null) continue;
      out.push([k, typeof v === 'boolean' ? (v ? 'True' : 'False') : v]);
    }
  });
  if (out.length === 0) return out;
  out.push(['ADetailer version', ADETAILER_VERSION]);
  return out;
}

/**
 * The units an infotext describes (png-info → ADetailer tabs), defaults filled in. Keys without a
 * suffix are the first tab, " 2nd" the second, and so on; a tab exists when its model key does.
 */
export function adetailerFromInfotext(fields: Readonly<Record<string, string | number | boolean>>): ADetailerArgs[] {
  const units: ADetailerArgs[] = [];
  for (let n = 0; n < MAX_ADETAILER_UNITS; n++) {
    const suffix = tabSuffix(n);
    const model = fields[`ADetailer model${suffix}`];
    if (model === undefined) continue;
    const unit: Record<string, unknown> = { ...ADETAILER_DEFAULTS };
    for (const [attr, name] of ALL_ARGS) {
      const v = fields[name + suffix];
      if (v === undefined) continue;
      const def = ADETAILER_DEFAULTS[attr];
      const text = String(v);
      if (typeof def === 'boolean') unit[attr] = text === 'True';
      else if (typeof def === 'number') {
        const x = Number(text);
        if (Number.isFinite(x)) unit[attr] = x;
      } else unit[attr] = text;
    }
    // When the keys for "use separate ..." are absent, ADetailer had them off; a present value means on.
    const a = unit as unknown as ADetailerArgs;
    if (!MASK_FILTER_METHODS.includes(a.ad_mask_filter_method)) a.ad_mask_filter_method = 'Area';
    if (!MASK_MERGE_INVERT.includes(a.ad_mask_merge_invert)) a.ad_mask_merge_invert = 'None';
    if (!BBOX_SORTBY.includes(a.ad_bbox_sortby)) a.ad_bbox_sortby = 'None';
    units.push(a);
  }
  return units;
}

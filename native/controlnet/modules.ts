// The ControlNet module (preprocessor) table exactly as Mikubill/sd-webui-controlnet v1.1.455
// registers it (scripts/supported_preprocessor.py, scripts/preprocessor/*.py and the legacy table
// scripts/preprocessor/legacy/preprocessor_compiled.py), plus the unit-slider normalisation of
// internal_controlnet/args.py (`ControlNetUnit.bound_check_params`, pydantic 1.10).
//
// Facts worth knowing before changing anything here:
// - A module is found by its label first, then by its name (`Preprocessor.get_preprocessor`); the
//   API stores the string as given and the infotext prints it as given ("Module: invert" when the
//   request said `invert`, "Module: invert (from white bg & black line)" when it used the label).
// - Every *legacy* preprocessor keeps the default resolution slider (64–2048, 512, step 8): the
//   legacy wrapper assigns its own resolution spec to `self.resolution`, which nothing reads.
// - A hidden slider is `PreprocessorParameter(visible=False)`: label EMPTY_LABEL, range 0–1,
//   default 0.5 (a float), step 0.01. Out-of-range values are replaced by that default too, so a
//   hidden processor_res stores 0.5 ("Processor Res: 0.5" in the infotext of `invert`).
// - The replacement keeps the Python type of the slider default: canny's `100` is an int, so an
//   omitted threshold prints `100`; a given threshold is a pydantic float field and prints `100.0`.
//
// Order of `listControlNetModules()` = the extension's `get_sorted_preprocessors()`: `none` first,
// then by zero-padded sorting priority + label, descending (what GET /controlnet/module_list returns).

import type { ResizeModeName } from './preprocess/detectmap.js';
import { ControlNetPreprocessError } from './preprocess/preprocess-error.js';

/** One slider of a preprocessor (`PreprocessorParameter`). */
export interface SliderSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Default, also the replacement for out-of-range values. */
  readonly value: number;
  /** Whether Python holds `value` as a float (prints `1.0`), not an int (prints `1`). */
  readonly valueIsFloat: boolean;
  readonly step: number;
  /** Hidden sliders are not shown in the UI nor listed in /controlnet/module_list's `sliders`. */
  readonly visible: boolean;
}

export interface ControlNetModule {
  /** The extension's internal name: the `module` value of /controlnet/module_list. */
  readonly name: string;
  /** The UI name (module_list?alias_names=true); the API accepts it as an alias of `name`. */
  readonly label: string;
  /** Control-type filters the module belongs to (/controlnet/control_types). */
  readonly tags: readonly string[];
  readonly sortingPriority: number;
  readonly sliders: {
    readonly processorRes: SliderSpec;
    readonly thresholdA: SliderSpec;
    readonly thresholdB: SliderSpec;
  };
  /** `do_not_need_model`: the unit runs without a ControlNet model (reference, revision). */
  readonly modelFree: boolean;
  /** The preprocessor takes an RGBA input whose alpha is the (inpaint / clip) mask. */
  readonly acceptsMask: boolean;
  readonly requiresMask: boolean;
  /** False for embedding-producing preprocessors (IP-Adapter, clip vision). */
  readonly returnsImage: boolean;
  /** Whether Easel computes this preprocessor. */
  readonly available: boolean;
  /** Why not, when `available` is false. */
  readonly unavailableReason?: string;
}

const NEEDS_MODEL = 'needs a preprocessor model; not supported yet';
const NOT_YET = 'not supported yet';
const NEEDS_ATTENTION = 'needs reference attention injection; not supported yet';

/** Modules Easel computes (native/controlnet/preprocess/). */
const AVAILABLE = new Set([
  'none',
  'canny',
  'invert',
  'scribble_xdog',
  'threshold',
  'lineart_standard',
  'tile_resample',
  'inpaint_only',
  // inpaint_global_harmonious: the extension itself falls back to it from inpaint_only when A1111
  // inpaints with its own mask, so the engine must handle it; its preprocessing is inpaint_only's.
  'inpaint',
]);

/** Model-free in the extension but not computed here yet. */
const MODEL_FREE_NOT_YET = new Set([
  'blur_gaussian',
  'shuffle',
  'tile_colorfix',
  'tile_colorfix+sharp',
  'recolor_luminance',
  'recolor_intensity',
  'color',
]);

type SliderArg = Omit<SliderSpec, 'valueIsFloat'> & { valueIsFloat?: boolean };

function slider(label: string, min: number, max: number, value: number, step: number, kind?: 'float'): SliderSpec {
  return { label, min, max, value, valueIsFloat: kind === 'float', step, visible: true };
}

const HIDDEN: SliderSpec = { label: 'EMPTY_LABEL', min: 0, max: 1, value: 0.5, valueIsFloat: true, step: 0.01, visible: false };
const RESOLUTION: SliderSpec = slider('Resolution', 64, 2048, 512, 8);
// shuffle: PreprocessorParameter(value=512, visible=False), i.e. range 0–1 with an int default 512.
const HIDDEN_RES_512: SliderSpec = { ...HIDDEN, value: 512, valueIsFloat: false };

interface ModFlags {
  modelFree?: boolean;
  acceptsMask?: boolean;
  requiresMask?: boolean;
  returnsImage?: boolean;
}

function mod(
  name: string,
  label: string,
  tags: string[],
  sortingPriority: number,
  processorRes: SliderArg,
  thresholdA: SliderArg,
  thresholdB: SliderArg,
  flags: ModFlags = {},
): ControlNetModule {
  const available = AVAILABLE.has(name);
  const reason = name.startsWith('reference_') ? NEEDS_ATTENTION : MODEL_FREE_NOT_YET.has(name) ? NOT_YET : NEEDS_MODEL;
  const fix = (s: SliderArg): SliderSpec => ({ ...s, valueIsFloat: s.valueIsFloat ?? false });
  return {
    name,
    label,
    tags,
    sortingPriority,
    sliders: { processorRes: fix(processorRes), thresholdA: fix(thresholdA), thresholdB: fix(thresholdB) },
    modelFree: flags.modelFree ?? false,
    acceptsMask: flags.acceptsMask ?? false,
    requiresMask: flags.requiresMask ?? false,
    returnsImage: flags.returnsImage ?? true,
    available,
    ...(available ? {} : { unavailableReason: reason }),
  };
}

// prettier-ignore
const MODULES: readonly ControlNetModule[] = [
  mod('none', 'none', ['InstructP2P'], 10, RESOLUTION, HIDDEN, HIDDEN),
  mod('ip-adapter-auto', 'ip-adapter-auto', ['IP-Adapter'], 1000, RESOLUTION, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('tile_resample', 'tile_resample', ['Tile'], 100, RESOLUTION, slider('Down Sampling Rate', 1, 8, 1, 0.01, 'float'), HIDDEN),
  mod('pidinet', 'softedge_pidinet', ['SoftEdge'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('oneformer_ade20k', 'seg_ofade20k', ['Segmentation'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('pidinet_scribble', 'scribble_pidinet', ['Scribble', 'SparseCtrl'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('revision_clipvision', 'revision_clipvision', ['Revision'], 100, RESOLUTION, slider('Noise Augmentation', 0, 1, 0, 0.01, 'float'), HIDDEN, { modelFree: true, returnsImage: false }),
  mod('reference_only', 'reference_only', ['Reference'], 100, RESOLUTION, slider('Style Fidelity (only for Balanced mode)', 0, 1, 0.5, 0.01, 'float'), HIDDEN, { modelFree: true }),
  mod('recolor_luminance', 'recolor_luminance', ['Recolor'], 100, RESOLUTION, slider('Gamma Correction', 0.1, 2, 1, 0.001, 'float'), HIDDEN),
  mod('openpose_full', 'openpose_full', ['OpenPose'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('normal_bae', 'normal_bae', ['NormalMap'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('mlsd', 'mlsd', ['MLSD'], 100, RESOLUTION, slider('MLSD Value Threshold', 0.01, 2, 0.1, 0.01, 'float'), slider('MLSD Distance Threshold', 0.01, 20, 0.1, 0.01, 'float')),
  mod('lineart_standard', 'lineart_standard (from white bg & black line)', ['Lineart'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('ip-adapter_clip_sd15', 'ip-adapter_clip_h', ['IP-Adapter'], 100, RESOLUTION, HIDDEN, HIDDEN, { acceptsMask: true, returnsImage: false }),
  mod('inpaint_only', 'inpaint_only', ['Inpaint'], 100, HIDDEN, HIDDEN, HIDDEN, { acceptsMask: true, requiresMask: true }),
  mod('depth', 'depth_midas', ['Depth'], 100, RESOLUTION, HIDDEN, HIDDEN),
  mod('canny', 'canny', ['Canny'], 100, RESOLUTION, slider('Low Threshold', 1, 255, 100, 1), slider('High Threshold', 1, 255, 200, 1)),
  mod('invert', 'invert (from white bg & black line)', ['Canny', 'Lineart', 'Scribble', 'MLSD'], 20, HIDDEN, HIDDEN, HIDDEN),
  mod('tile_colorfix+sharp', 'tile_colorfix+sharp', ['Tile'], 0, RESOLUTION, slider('Variation', 3, 32, 8, 1, 'float'), slider('Sharpness', 0, 2, 1, 0.01, 'float')),
  mod('tile_colorfix', 'tile_colorfix', ['Tile'], 0, RESOLUTION, slider('Variation', 3, 32, 8, 1, 'float'), HIDDEN),
  mod('threshold', 'threshold', [], 0, RESOLUTION, slider('Binarization Threshold', 0, 255, 127, 0.01), HIDDEN),
  mod('clip_vision', 't2ia_style_clipvision', ['T2I-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('pidinet_sketch', 't2ia_sketch_pidi', ['T2I-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('color', 't2ia_color_grid', ['T2I-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('softedge_teed', 'softedge_teed', ['SoftEdge'], 0, RESOLUTION, slider('Safe Steps', 0, 10, 2, 1), HIDDEN),
  mod('pidinet_safe', 'softedge_pidisafe', ['SoftEdge'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('hed_safe', 'softedge_hedsafe', ['SoftEdge'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('hed', 'softedge_hed', ['SoftEdge'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('softedge_anyline', 'softedge_anyline', ['SoftEdge'], 0, slider('Resolution', 64, 2048, 1280, 8), slider('Safe Steps', 0, 10, 2, 1), HIDDEN),
  mod('shuffle', 'shuffle', ['Shuffle'], 0, HIDDEN_RES_512, HIDDEN, HIDDEN),
  mod('segmentation', 'seg_ufade20k', ['Segmentation'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('oneformer_coco', 'seg_ofcoco', ['Segmentation'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('anime_face_segment', 'seg_anime_face', ['Segmentation'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('scribble_xdog', 'scribble_xdog', ['Scribble', 'SparseCtrl'], 0, RESOLUTION, slider('XDoG Threshold', 1, 64, 32, 0.01), HIDDEN),
  mod('scribble_hed', 'scribble_hed', ['Scribble', 'SparseCtrl'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('revision_ignore_prompt', 'revision_ignore_prompt', ['Revision'], 0, RESOLUTION, slider('Noise Augmentation', 0, 1, 0, 0.01, 'float'), HIDDEN, { modelFree: true, returnsImage: false }),
  mod('reference_adain+attn', 'reference_adain+attn', ['Reference'], 0, RESOLUTION, slider('Style Fidelity (only for Balanced mode)', 0, 1, 0.5, 0.01, 'float'), HIDDEN, { modelFree: true }),
  mod('reference_adain', 'reference_adain', ['Reference'], 0, RESOLUTION, slider('Style Fidelity (only for Balanced mode)', 0, 1, 0.5, 0.01, 'float'), HIDDEN, { modelFree: true }),
  mod('recolor_intensity', 'recolor_intensity', ['Recolor'], 0, RESOLUTION, slider('Gamma Correction', 0.1, 2, 1, 0.001, 'float'), HIDDEN),
  mod('openpose_hand', 'openpose_hand', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('openpose_faceonly', 'openpose_faceonly', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('openpose_face', 'openpose_face', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('openpose', 'openpose', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('normal_map', 'normal_midas', ['NormalMap'], 0, RESOLUTION, slider('Normal Background Threshold', 0, 1, 0.4, 0.01, 'float'), HIDDEN),
  mod('normal_dsine', 'normal_dsine', ['NormalMap'], 0, RESOLUTION, slider('Fov', 0, 360, 60, 0.1), slider('Iterations', 1, 20, 5, 1)),
  mod('mobile_sam', 'mobile_sam', ['Segmentation'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('mediapipe_face', 'mediapipe_face', [], 0, RESOLUTION, slider('Max Faces', 1, 10, 1, 1), slider('Min Face Confidence', 0.01, 1, 0.5, 0.01, 'float')),
  mod('lineart', 'lineart_realistic', ['Lineart'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('lineart_coarse', 'lineart_coarse', ['Lineart'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('lineart_anime_denoise', 'lineart_anime_denoise', ['Lineart'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('lineart_anime', 'lineart_anime', ['Lineart'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('ip-adapter_pulid', 'ip-adapter_pulid', ['IP-Adapter'], 0, HIDDEN, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('ip-adapter_face_id_plus', 'ip-adapter_face_id_plus', ['IP-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('ip-adapter_face_id', 'ip-adapter_face_id', ['IP-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('ip-adapter_clip_sdxl_plus_vith', 'ip-adapter_clip_sdxl_plus_vith', ['IP-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN, { acceptsMask: true, returnsImage: false }),
  mod('ip-adapter_clip_sdxl', 'ip-adapter_clip_g', ['IP-Adapter'], 0, RESOLUTION, HIDDEN, HIDDEN, { acceptsMask: true, returnsImage: false }),
  mod('instant_id_face_keypoints', 'instant_id_face_keypoints', ['Instant-ID'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('instant_id_face_embedding', 'instant_id_face_embedding', ['Instant-ID'], 0, RESOLUTION, HIDDEN, HIDDEN, { returnsImage: false }),
  mod('inpaint_only+lama', 'inpaint_only+lama', ['Inpaint'], 0, HIDDEN, HIDDEN, HIDDEN, { acceptsMask: true, requiresMask: true }),
  mod('inpaint', 'inpaint_global_harmonious', ['Inpaint'], 0, HIDDEN, HIDDEN, HIDDEN, { acceptsMask: true, requiresMask: true }),
  mod('facexlib', 'facexlib', [], 0, HIDDEN, HIDDEN, HIDDEN),
  mod('dw_openpose_full', 'dw_openpose_full', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('depth_zoe', 'depth_zoe', ['Depth'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('depth_leres++', 'depth_leres++', ['Depth'], 0, RESOLUTION, slider('Remove Near %', 0, 100, 0, 0.1), slider('Remove Background %', 0, 100, 0, 0.1)),
  mod('depth_leres', 'depth_leres', ['Depth'], 0, RESOLUTION, slider('Remove Near %', 0, 100, 0, 0.1), slider('Remove Background %', 0, 100, 0, 0.1)),
  mod('depth_hand_refiner', 'depth_hand_refiner', ['Depth'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('depth_anything_v2', 'depth_anything_v2', ['Depth'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('depth_anything', 'depth_anything', ['Depth'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('densepose_parula', 'densepose_parula (black bg & blue torso)', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('densepose', 'densepose (pruple bg & purple torso)', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
  mod('blur_gaussian', 'blur_gaussian', ['Tile'], 0, RESOLUTION, slider('Sigma', 0.01, 64, 9, 0.01, 'float'), HIDDEN),
  mod('animal_openpose', 'animal_openpose', ['OpenPose'], 0, RESOLUTION, HIDDEN, HIDDEN),
];

const BY_LABEL = new Map(MODULES.map((m) => [m.label, m]));
const BY_NAME = new Map(MODULES.map((m) => [m.name, m]));

/**
 * The module for a `module` value as the API accepts it: a label first, then a name — the
 * extension's lookup order. Undefined when the extension has no such module.
 *
 * @example findControlNetModule('invert (from white bg & black line)')?.name // 'invert'
 */
export function findControlNetModule(idOrAlias: string): ControlNetModule | undefined {
  return BY_LABEL.get(idOrAlias) ?? BY_NAME.get(idOrAlias);
}

/**
 * Like `findControlNetModule`, but an unknown id throws `unknown_controlnet_module` naming it.
 * Unavailable modules are returned (check `.available`, or use `requireAvailableModule`).
 *
 * @example controlNetModule('depth').label  // 'depth_midas'
 * @example controlNetModule('depth_midas').name  // 'depth'
 * @example controlNetModule('invert').label  // 'invert (from white bg & black line)'
 */
export function controlNetModule(idOrAlias: string): ControlNetModule {
  const m = findControlNetModule(idOrAlias);
  if (!m) {
    throw new ControlNetPreprocessError(
      'unknown_controlnet_module',
      `unknown ControlNet module "${idOrAlias}" (see /controlnet/module_list)`,
      idOrAlias,
    );
  }
  return m;
}

/**
 * The module, or a coded error: `unknown_controlnet_module`, or `controlnet_module_unavailable`
 * with the reason (e.g. "ControlNet module "depth_midas" is not available: needs a preprocessor
 * model; not supported yet").
 */
export function requireAvailableModule(idOrAlias: string): ControlNetModule {
  const m = controlNetModule(idOrAlias);
  if (!m.available) {
    throw new ControlNetPreprocessError(
      'controlnet_module_unavailable',
      `ControlNet module "${idOrAlias}" is not available: ${m.unavailableReason ?? NOT_YET}`,
      idOrAlias,
    );
  }
  return m;
}

/**
 * Every module, in the extension's /controlnet/module_list order (`none` first).
 *
 * @example listControlNetModules().map((m) => m.name).slice(0, 3) // ['none', 'ip-adapter-auto', 'tile_resample']
 */
export function listControlNetModules(): readonly ControlNetModule[] {
  return MODULES;
}

/** A number as Python holds it: `pyFloat` says whether `str()` prints it as a float (`100.0`). */
export interface PyNumber {
  value: number;
  pyFloat: boolean;
}

export interface UnitSliderInput {
  /** Omitted (undefined) = the API default -1. */
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
}

export interface UnitSliders {
  processor_res: PyNumber;
  threshold_a: PyNumber;
  threshold_b: PyNumber;
}

function sliderDefault(s: SliderSpec): PyNumber {
  return { value: s.value, pyFloat: s.valueIsFloat };
}

function bound(v: PyNumber, s: SliderSpec): PyNumber {
  return v.value < s.min || v.value > s.max ? sliderDefault(s) : v;
}

/**
 * README step 1 "as stored": what an enabled unit holds after pydantic validation. processor_res
 * is an int field (a given 512.7 → 512, pydantic 1's `int()`), thresholds are float fields (a given
 * 100 → 100.0); omitted values are -1. A value outside the slider's [min, max] becomes the slider
 * default with the default's own Python type. The stored values are what the infotext prints
 * (before pixel perfect changes the resolution used).
 *
 * @example
 * const canny = controlNetModule('canny');
 * normalizeUnitSliders(canny, {})
 * // { processor_res: {value: 512, pyFloat: false}, threshold_a: {value: 100, pyFloat: false}, threshold_b: {value: 200, pyFloat: false} }
 * normalizeUnitSliders(canny, { processor_res: 64, threshold_a: 100, threshold_b: 300 })
 * // { processor_res: {value: 64, pyFloat: false}, threshold_a: {value: 100, pyFloat: true}, threshold_b: {value: 200, pyFloat: false} }
 * normalizeUnitSliders(controlNetModule('none'), {}).threshold_a // {value: 0.5, pyFloat: true}
 */
export function normalizeUnitSliders(module: ControlNetModule, input: UnitSliderInput): UnitSliders {
  const res: PyNumber = input.processor_res === undefined ? { value: -1, pyFloat: false } : { value: Math.trunc(input.processor_res), pyFloat: false };
  const a: PyNumber = input.threshold_a === undefined ? { value: -1, pyFloat: false } : { value: input.threshold_a, pyFloat: true };
  const b: PyNumber = input.threshold_b === undefined ? { value: -1, pyFloat: false } : { value: input.threshold_b, pyFloat: true };
  return {
    processor_res: bound(res, module.sliders.processorRes),
    threshold_a: bound(a, module.sliders.thresholdA),
    threshold_b: bound(b, module.sliders.thresholdB),
  };
}

/**
 * Python's `repr(float)`: the shortest round-trip digits (as JS), fixed notation for decimal
 * exponents -4..15 with a trailing `.0` on integers, otherwise `1e-05` / `1.5e+16` style.
 *
 * @example pyFloatRepr(100) // '100.0'
 * @example pyFloatRepr(0.00001) // '1e-05'
 * @example pyFloatRepr(1e16) // '1e+16'
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intLen = exp + 1;
    if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/**
 * Python `str()` of a stored number, for the infotext.
 *
 * @example pyStr({ value: 100, pyFloat: false }) // '100'
 * @example pyStr({ value: 100, pyFloat: true }) // '100.0'
 * @example pyStr({ value: 0.5, pyFloat: true }) // '0.5'
 */
export function pyStr(n: PyNumber): string {
  return n.pyFloat ? pyFloatRepr(n.value) : String(Math.trunc(n.value));
}

const RESIZE_MODES: readonly ResizeModeName[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];
// ControlNetUnit.check_resize_mode's aliases (old UI names).
const RESIZE_MODE_ALIASES: Readonly<Record<string, ResizeModeName>> = {
  'Inner Fit (Scale to Fit)': 'Crop and Resize',
  'Outer Fit (Shrink to Fit)': 'Resize and Fill',
  'Scale to Fit (Inner Fit)': 'Crop and Resize',
  'Envelope (Outer Fit)': 'Resize and Fill',
};

/**
 * A unit's `resize_mode` as the extension's API accepts it: the enum value or one of its four old
 * aliases (strings only); undefined → the default "Crop and Resize". Anything else is `bad_input`.
 *
 * @example resizeModeFromApi('Envelope (Outer Fit)') // 'Resize and Fill'
 */
export function resizeModeFromApi(value: string | undefined): ResizeModeName {
  if (value === undefined) return 'Crop and Resize';
  const v = RESIZE_MODE_ALIASES[value] ?? value;
  if ((RESIZE_MODES as readonly string[]).includes(v)) return v as ResizeModeName;
  throw new ControlNetPreprocessError('bad_input', `resize_mode must be one of ${RESIZE_MODES.join(', ')}, got "${value}"`);
}

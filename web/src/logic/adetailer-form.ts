// The Generate tab's ADetailer section: its state (saved in localStorage so a reload keeps it), the
// checks before a round trip, and the conversion to ADetailer units with ADetailer's own `ad_*`
// names. Only values that differ from ADetailer's defaults are sent; the engine fills the rest.
import type { GenerationParamsInput } from '../data/protocol.js';

/** One item of `generate.adetailer` (ADetailer's `ad_*` names). */
export type AdetailerUnitInput = NonNullable<GenerationParamsInput['adetailer']>[number];

export interface ADetailerFormState {
  enabled: boolean;
  model: string;
  prompt: string;
  negativePrompt: string;
  confidence: number;
  dilateErode: number;
  denoising: number;
  maskBlur: number;
  padding: number;
  onlyMasked: boolean;
  maskK: number;
  mergeInvert: 'None' | 'Merge' | 'Merge and Invert';
  useSteps: boolean;
  steps: number;
  /** ad_use_noise_multiplier / ad_noise_multiplier (0.5–1.5): the passes' img2img initial noise multiplier. */
  useNoiseMultiplier: boolean;
  noiseMultiplier: number;
}

export const DEFAULT_ADETAILER_FORM: ADetailerFormState = {
  enabled: false,
  model: 'face_yolov8n.pt',
  prompt: '',
  negativePrompt: '',
  confidence: 0.3,
  dilateErode: 4,
  denoising: 0.4,
  maskBlur: 4,
  padding: 32,
  onlyMasked: true,
  maskK: 0,
  mergeInvert: 'None',
  useSteps: false,
  steps: 28,
  useNoiseMultiplier: false,
  noiseMultiplier: 1.0,
};

const STORAGE_KEY = 'easel.adetailer.v1';

export function loadADetailerForm(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): ADetailerFormState {
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    if (raw) return { ...DEFAULT_ADETAILER_FORM, ...(JSON.parse(raw) as Partial<ADetailerFormState>) };
  } catch {
    // a broken entry: start from the defaults
  }
  return { ...DEFAULT_ADETAILER_FORM };
}

export function saveADetailerForm(s: ADetailerFormState, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(s));
  } catch {
    // private mode / full storage: the section still works for this session
  }
}

/** Field name → message, for the fields that are out of range. */
export function validateADetailerForm(s: ADetailerFormState): Record<string, string> {
  const errors: Record<string, string> = {};
  const range = (name: string, v: number, lo: number, hi: number, int = false) => {
    if (!Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) errors[name] = `expected ${int ? 'a whole number' : 'a number'} from ${lo} to ${hi}, got ${Number.isFinite(v) ? v : 'nothing'}`;
  };
  if (!s.model) errors.ad_model = 'choose a detector';
  range('ad_confidence', s.confidence, 0, 1);
  range('ad_dilate_erode', s.dilateErode, -128, 128, true);
  range('ad_denoising_strength', s.denoising, 0, 1);
  range('ad_mask_blur', s.maskBlur, 0, 64, true);
  range('ad_inpaint_only_masked_padding', s.padding, 0, 256, true);
  range('ad_mask_k', s.maskK, 0, 300, true);
  if (s.useSteps) range('ad_steps', s.steps, 1, 150, true);
  if (s.useNoiseMultiplier) range('ad_noise_multiplier', s.noiseMultiplier, 0.5, 1.5);
  return errors;
}

/** One ADetailer unit from the section, non-default fields only. */
export function toADetailerUnit(s: ADetailerFormState): AdetailerUnitInput {
  const d = DEFAULT_ADETAILER_FORM;
  const u: AdetailerUnitInput = { ad_model: s.model };
  if (s.prompt.trim()) u.ad_prompt = s.prompt;
  if (s.negativePrompt.trim()) u.ad_negative_prompt = s.negativePrompt;
  if (s.confidence !== d.confidence) u.ad_confidence = s.confidence;
  if (s.dilateErode !== d.dilateErode) u.ad_dilate_erode = s.dilateErode;
  if (s.denoising !== d.denoising) u.ad_denoising_strength = s.denoising;
  if (s.maskBlur !== d.maskBlur) u.ad_mask_blur = s.maskBlur;
  if (s.padding !== d.padding) u.ad_inpaint_only_masked_padding = s.padding;
  if (s.onlyMasked !== d.onlyMasked) u.ad_inpaint_only_masked = s.onlyMasked;
  if (s.maskK !== d.maskK) u.ad_mask_k = s.maskK;
  if (s.mergeInvert !== d.mergeInvert) u.ad_mask_merge_invert = s.mergeInvert;
  if (s.useSteps) {
    u.ad_use_steps = true;
    u.ad_steps = s.steps;
  }
  if (s.useNoiseMultiplier) {
    u.ad_use_noise_multiplier = true;
    u.ad_noise_multiplier = s.noiseMultiplier;
  }
  return u;
}

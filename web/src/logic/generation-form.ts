// The Generate form's state, its validation with "expected vs got" messages per field, and the
// conversion to the `generate` payload. Limits mirror the server's defaults (server/protocol/
// generation.ts); the server validates again and stays the authority, this only catches mistakes
// before a round trip.
import type { GenerationParamsInput } from '../data/protocol.js';
import { MAX_SIDE, MIN_SIDE, SIZE_STEP } from './size-presets.js';
import { slotsToParams, validateSlots, type LoraInfo, type LoraSlot } from './lora-slots.js';
import { defaultHires, hiresToParams, validateHires, type HiresFormState } from './hires-form.js';

export const LIMITS = {
  maxPromptChars: 10_000,
  minSide: MIN_SIDE,
  maxSide: MAX_SIDE,
  minSteps: 1,
  maxSteps: 150,
  minCfg: 0,
  maxCfg: 30,
  maxSeed: 4294967295,
  maxBatchSize: 8,
  maxIter: 100,
  minClipSkip: 1,
  maxClipSkip: 12,
} as const;

/** The VAE choice that sends no `vae` field, so the server's DEFAULT_VAE applies. */
export const VAE_AUTOMATIC = '';
/** A1111's "None": decode with the checkpoint's own VAE even when the server has a default. */
export const VAE_NONE = 'None';

export interface InitImage {
  /** data: URL of the picked or dropped image (the protocol takes base64 / data URLs). */
  dataUrl: string;
  name: string;
  width: number;
  height: number;
}

export interface GenerationFormState {
  prompt: string;
  negativePrompt: string;
  model: string;
  sizePreset: string;
  width: number;
  height: number;
  steps: number;
  cfgScale: number;
  sampler: string;
  scheduler: string;
  seed: number;
  batchSize: number;
  batchCount: number;
  loras: LoraSlot[];
  clipSkip: number;
  /** VAE_AUTOMATIC (the field is left out: the checkpoint's own or the server's default), VAE_NONE, or a registry name. */
  vae: string;
  /** Set when an image was dropped or picked: the form then runs img2img. */
  initImage: InitImage | null;
  strength: number;
  /** Hires fix (txt2img only; logic/hires-form.ts). */
  hires: HiresFormState;
}

export function defaultFormState(): GenerationFormState {
  return {
    prompt: '',
    negativePrompt: '',
    model: '',
    sizePreset: '512',
    width: 512,
    height: 512,
    steps: 20,
    cfgScale: 7,
    sampler: 'euler_a',
    scheduler: 'automatic',
    seed: -1,
    batchSize: 1,
    batchCount: 1,
    loras: [],
    clipSkip: 1,
    vae: VAE_AUTOMATIC,
    initImage: null,
    strength: 0.75,
    hires: defaultHires(),
  };
}

/** Field name (the protocol's, so server errors land on the same field) → message. */
export type FieldErrors = Partial<Record<string, string>>;

function checkInt(errors: FieldErrors, field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v)) errors[field] = `must be a whole number, got ${String(v)}`;
  else if (v < min || v > max) errors[field] = `must be between ${min} and ${max}, got ${v}`;
}

function checkSide(errors: FieldErrors, field: string, v: number): void {
  if (!Number.isInteger(v) || v % SIZE_STEP !== 0) errors[field] = `must be a multiple of ${SIZE_STEP}, got ${String(v)}`;
  else if (v < LIMITS.minSide || v > LIMITS.maxSide) errors[field] = `must be between ${LIMITS.minSide} and ${LIMITS.maxSide}, got ${v}`;
}

/** Every problem of the form at once, so all invalid fields can be marked together. */
export function validateForm(s: GenerationFormState, knownLoras?: readonly LoraInfo[]): FieldErrors {
  const errors: FieldErrors = {};
  if (s.prompt.length > LIMITS.maxPromptChars) errors.prompt = `must be at most ${LIMITS.maxPromptChars} characters, got ${s.prompt.length}`;
  if (s.negativePrompt.length > LIMITS.maxPromptChars) {
    errors.negative_prompt = `must be at most ${LIMITS.maxPromptChars} characters, got ${s.negativePrompt.length}`;
  }
  checkSide(errors, 'width', s.width);
  checkSide(errors, 'height', s.height);
  checkInt(errors, 'steps', s.steps, LIMITS.minSteps, LIMITS.maxSteps);
  if (!Number.isFinite(s.cfgScale) || s.cfgScale < LIMITS.minCfg || s.cfgScale > LIMITS.maxCfg) {
    errors.cfg_scale = `must be between ${LIMITS.minCfg} and ${LIMITS.maxCfg}, got ${String(s.cfgScale)}`;
  }
  if (!Number.isInteger(s.seed) || (s.seed !== -1 && (s.seed < 0 || s.seed > LIMITS.maxSeed))) {
    errors.seed = `must be -1 (random) or 0..${LIMITS.maxSeed}, got ${String(s.seed)}`;
  }
  checkInt(errors, 'batch_size', s.batchSize, 1, LIMITS.maxBatchSize);
  checkInt(errors, 'n_iter', s.batchCount, 1, LIMITS.maxIter);
  checkInt(errors, 'clip_skip', s.clipSkip, LIMITS.minClipSkip, LIMITS.maxClipSkip);
  if (!s.sampler) errors.sampler = 'choose a sampler';
  if (s.initImage && (!Number.isFinite(s.strength) || s.strength < 0 || s.strength > 1)) {
    errors.strength = `must be between 0 and 1, got ${String(s.strength)}`;
  }
  for (const [i, msg] of validateSlots(s.loras, knownLoras)) errors[`loras.${i}`] = msg;
  if (!s.initImage) Object.assign(errors, validateHires({ ...defaultHires(), ...s.hires }, LIMITS.maxSteps));
  return errors;
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.keys(errors).length > 0;
}

/** The `generate` payload for a valid form (img2img when an image is attached). */
export function formToParams(s: GenerationFormState): GenerationParamsInput {
  const params: GenerationParamsInput = {
    task: s.initImage ? 'img2img' : 'txt2img',
    prompt: s.prompt,
    negative_prompt: s.negativePrompt,
    width: s.width,
    height: s.height,
    steps: s.steps,
    cfg_scale: s.cfgScale,
    sampler: s.sampler,
    seed: s.seed,
    batch_size: s.batchSize,
    n_iter: s.batchCount,
    loras: slotsToParams(s.loras),
    clip_skip: s.clipSkip,
  };
  if (s.model) params.model = s.model;
  if (s.scheduler && s.scheduler !== 'automatic') params.scheduler = s.scheduler;
  if (s.vae !== VAE_AUTOMATIC) params.vae = s.vae;
  if (s.initImage) {
    params.image = s.initImage.dataUrl;
    params.strength = s.strength;
  }
  const hires = s.initImage ? undefined : hiresToParams({ ...defaultHires(), ...s.hires });
  if (hires) params.hires = hires;
  return params;
}

/** The seed of a finished image, for the "reuse last seed" button. */
export function reuseSeed(s: GenerationFormState, lastSeed: number | null): GenerationFormState {
  return lastSeed === null ? s : { ...s, seed: lastSeed };
}

export function randomSeed(s: GenerationFormState): GenerationFormState {
  return { ...s, seed: -1 };
}

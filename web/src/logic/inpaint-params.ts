// The Inpaint tab's own settings (denoising strength, mask blur, "inpaint only masked" and its
// padding, masked content, processing size) and the `generate` payload they make together with
// the parameters shared with the Generate tab. The processing size follows the image by default,
// snapped to the 8-pixel grid the model needs. With no mask painted the same image runs img2img.
import type { GenerationParamsInput } from '../data/protocol.js';
import { snapToGrid } from './canvas-geometry.js';
import { formToParams, type FieldErrors, type GenerationFormState } from './generation-form.js';
import { MAX_SIDE, MIN_SIDE } from './size-presets.js';

/** A1111's "Masked content": what the masked area starts from before denoising. */
export type MaskedContent = 'original' | 'fill' | 'latent_noise' | 'latent_nothing';

export const MASKED_CONTENT_LABELS: Record<MaskedContent, string> = {
  original: 'Original',
  fill: 'Fill',
  latent_noise: 'Latent noise',
  latent_nothing: 'Latent nothing',
};

export interface InpaintSettings {
  strength: number;
  maskBlur: number;
  onlyMasked: boolean;
  padding: number;
  maskedContent: MaskedContent;
  /** true: width × height follow the loaded image (snapped); false: the values below. */
  sizeFromImage: boolean;
  width: number;
  height: number;
}

export const INPAINT_LIMITS = { maxMaskBlur: 64, maxPadding: 256 } as const;

export function defaultInpaintSettings(): InpaintSettings {
  return { strength: 0.75, maskBlur: 4, onlyMasked: false, padding: 32, maskedContent: 'original', sizeFromImage: true, width: 512, height: 512 };
}

/** The processing size: the image's own, snapped to multiples of 8 within the server's limits. */
export function processingSize(s: InpaintSettings, imageWidth: number, imageHeight: number): { width: number; height: number } {
  if (s.sizeFromImage && imageWidth > 0 && imageHeight > 0) {
    return { width: snapToGrid(imageWidth, MIN_SIDE, MAX_SIDE), height: snapToGrid(imageHeight, MIN_SIDE, MAX_SIDE) };
  }
  return { width: s.width, height: s.height };
}

function intIn(errors: FieldErrors, field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) errors[field] = `must be a whole number between ${min} and ${max}, got ${String(v)}`;
}

/** "Expected vs got" problems of the inpaint settings, keyed by the protocol's field names. */
export function validateInpaint(s: InpaintSettings): FieldErrors {
  const errors: FieldErrors = {};
  if (!Number.isFinite(s.strength) || s.strength < 0 || s.strength > 1) errors.strength = `must be between 0 and 1, got ${String(s.strength)}`;
  intIn(errors, 'mask_blur', s.maskBlur, 0, INPAINT_LIMITS.maxMaskBlur);
  intIn(errors, 'inpaint_full_res_padding', s.padding, 0, INPAINT_LIMITS.maxPadding);
  if (!s.sizeFromImage) {
    for (const [field, v] of [['width', s.width], ['height', s.height]] as const) {
      if (!Number.isInteger(v) || v % 8 !== 0 || v < MIN_SIDE || v > MAX_SIDE) errors[field] = `must be a multiple of 8 between ${MIN_SIDE} and ${MAX_SIDE}, got ${String(v)}`;
    }
  }
  return errors;
}

export interface InpaintSource {
  /** The image as a data URL (PNG, JPEG or WebP). */
  image: string;
  width: number;
  height: number;
  /** The mask PNG (white = inpaint), or null to run img2img on the whole image. */
  mask: string | null;
}

/**
 * The `generate` payload: the shared parameters (one image per job: the editor shows one result),
 * the image, and for inpainting the mask with its settings.
 *
 * @example inpaintParams(form, defaultInpaintSettings(), { image: dataUrl, width: 640, height: 480, mask: maskUrl })
 */
export function inpaintParams(shared: Omit<GenerationFormState, 'initImage'>, s: InpaintSettings, src: InpaintSource): GenerationParamsInput {
  const size = processingSize(s, src.width, src.height);
  const base = formToParams({ ...shared, ...size, batchSize: 1, batchCount: 1, initImage: null });
  const params: GenerationParamsInput = { ...base, task: src.mask ? 'inpaint' : 'img2img', image: src.image, strength: s.strength };
  if (src.mask) {
    params.mask = src.mask;
    params.mask_blur = s.maskBlur;
    params.inpaint_full_res = s.onlyMasked;
    params.inpaint_full_res_padding = s.padding;
    params.inpainting_fill = s.maskedContent;
  }
  return params;
}

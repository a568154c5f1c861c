// The hires fix part of the Generate form: its state (remembered with the rest of the form), the
// upscaler choices A1111 offers (six latent modes, None, Lanczos, Nearest, then the server's
// upscaler files by stem), validation, and the `hires` object of the `generate` payload under the
// protocol's names (server/protocol/generation.ts). 0 and '' mean "unset", as in A1111.
import type { GenerationParamsInput } from '../data/protocol.js';

export const LATENT_UPSCALERS = [
  'Latent',
  'Latent (antialiased)',
  'Latent (bicubic)',
  'Latent (bicubic antialiased)',
  'Latent (nearest)',
  'Latent (nearest-exact)',
] as const;
export const BUILTIN_IMAGE_UPSCALERS = ['None', 'Lanczos', 'Nearest'] as const;

export interface HiresFormState {
  enabled: boolean;
  /** Whether the section is unfolded (collapsed by default, remembered with the form). */
  open: boolean;
  upscaler: string;
  scale: number;
  /** hr_second_pass_steps: 0 = the first pass's steps. */
  steps: number;
  denoisingStrength: number;
  /** hr_resize_x / hr_resize_y: 0 = unset (scale applies). */
  resizeX: number;
  resizeY: number;
  /** '' = same as the first pass. */
  sampler: string;
  scheduler: string;
  prompt: string;
  negativePrompt: string;
  saveFirstPass: boolean;
}

/** A1111's UI defaults (hr_scale 2, denoising 0.7, "Latent"). */
export function defaultHires(): HiresFormState {
  return {
    enabled: false,
    open: false,
    upscaler: 'Latent',
    scale: 2,
    steps: 0,
    denoisingStrength: 0.7,
    resizeX: 0,
    resizeY: 0,
    sampler: '',
    scheduler: '',
    prompt: '',
    negativePrompt: '',
    saveFirstPass: false,
  };
}

/** A1111 lists model upscalers by file stem: `4x-UltraSharp.pth` → `4x-UltraSharp`. */
export function upscalerStem(file: string): string {
  return file.replace(/^.*\//, '').replace(/\.(pth|pt|safetensors|bin|ckpt)$/i, '');
}

/** Every name the hires upscaler picker offers, latent modes first (A1111's order). */
export function hiresUpscalerChoices(files: readonly string[]): string[] {
  return [...LATENT_UPSCALERS, ...BUILTIN_IMAGE_UPSCALERS, ...[...new Set(files.map(upscalerStem))].sort()];
}

/** The size the second pass produces (A1111 calculate_target_resolution, then the latent crop), for the summary line. */
export function hiresTargetSize(width: number, height: number, h: Pick<HiresFormState, 'scale' | 'resizeX' | 'resizeY'>): { width: number; height: number } {
  const rx = h.resizeX, ry = h.resizeY;
  let toX: number, toY: number, tx = 0, ty = 0;
  if (rx === 0 && ry === 0) [toX, toY] = [Math.trunc(width * h.scale), Math.trunc(height * h.scale)];
  else if (ry === 0) [toX, toY] = [rx, Math.floor((rx * height) / width)];
  else if (rx === 0) [toX, toY] = [Math.floor((ry * width) / height), ry];
  else {
    [toX, toY] = width / height < rx / ry ? [rx, Math.floor((rx * height) / width)] : [Math.floor((ry * width) / height), ry];
    [tx, ty] = [Math.floor((toX - rx) / 8), Math.floor((toY - ry) / 8)];
  }
  return { width: (Math.floor(toX / 8) - tx) * 8, height: (Math.floor(toY / 8) - ty) * 8 };
}

/** Problems of the hires fields, keyed by the protocol's field path (`hires.scale`, ...). */
export function validateHires(h: HiresFormState, maxSteps: number): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!h.enabled) return errors;
  if (!Number.isFinite(h.scale) || h.scale < 1 || h.scale > 4) errors['hires.scale'] = `must be between 1 and 4, got ${String(h.scale)}`;
  if (!Number.isInteger(h.steps) || h.steps < 0 || h.steps > maxSteps) errors['hires.steps'] = `must be 0 (same as steps) to ${maxSteps}, got ${String(h.steps)}`;
  if (!Number.isFinite(h.denoisingStrength) || h.denoisingStrength <= 0 || h.denoisingStrength > 1) {
    errors['hires.denoising_strength'] = `must be above 0 and at most 1, got ${String(h.denoisingStrength)}`;
  }
  for (const [k, v] of [['hires.width', h.resizeX], ['hires.height', h.resizeY]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 8192) errors[k] = `must be 0 (unset) to 8192, got ${String(v)}`;
  }
  return errors;
}

/** The `hires` object of the payload (undefined when off). */
export function hiresToParams(h: HiresFormState): GenerationParamsInput['hires'] {
  if (!h.enabled) return undefined;
  return {
    enabled: true,
    upscaler: h.upscaler,
    scale: h.scale,
    steps: h.steps,
    denoising_strength: h.denoisingStrength,
    width: h.resizeX,
    height: h.resizeY,
    ...(h.sampler ? { sampler: h.sampler } : {}),
    ...(h.scheduler ? { scheduler: h.scheduler } : {}),
    ...(h.prompt ? { prompt: h.prompt } : {}),
    ...(h.negativePrompt ? { negative_prompt: h.negativePrompt } : {}),
    ...(h.saveFirstPass ? { save_first_pass: true } : {}),
  };
}

/**
 * "Use these parameters": the hires fix an infotext describes (A1111's `Hires …` items), or off
 * when it has none. `samplerId` / `schedulerId` map A1111 labels to the server's ids.
 */
export function hiresFromInfotext(
  params: ReadonlyArray<readonly [string, string]>,
  current: HiresFormState,
  ids: { samplerId(label: string): string | undefined; schedulerId(label: string): string | undefined },
): HiresFormState {
  const get = (k: string): string | undefined => params.find(([key]) => key === k)?.[1];
  const resize = /^(\d+)x(\d+)$/.exec(get('Hires resize') ?? '');
  if (get('Hires upscale') === undefined && get('Hires upscaler') === undefined && !resize) return { ...current, enabled: false };
  const num = (v: string | undefined, fallback: number): number => (v !== undefined && Number.isFinite(Number(v)) ? Number(v) : fallback);
  const sampler = get('Hires sampler');
  const schedule = get('Hires schedule type');
  return {
    ...current,
    enabled: true,
    open: true,
    upscaler: get('Hires upscaler') ?? 'Latent',
    scale: num(get('Hires upscale'), 2),
    resizeX: resize ? Number(resize[1]) : 0,
    resizeY: resize ? Number(resize[2]) : 0,
    steps: num(get('Hires steps'), 0),
    denoisingStrength: num(get('Denoising strength'), 0.7),
    sampler: sampler ? (ids.samplerId(sampler) ?? '') : '',
    scheduler: schedule ? (ids.schedulerId(schedule) ?? '') : '',
    prompt: get('Hires prompt') ?? '',
    negativePrompt: get('Hires negative prompt') ?? '',
  };
}

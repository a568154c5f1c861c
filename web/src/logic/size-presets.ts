// Image size presets of the Generate form (512², 768², 1024², custom) and the snapping rule for
// custom sizes: the engine works on 8-pixel latent cells, so every side is a multiple of 8.

export const SIZE_STEP = 8;
export const MIN_SIDE = 64;
export const MAX_SIDE = 2048;

export interface SizePreset {
  id: string;
  label: string;
  width: number;
  height: number;
}

/** Square presets matching the native resolutions of SD1.x (512), SD2.x (768) and SDXL (1024). */
export const SIZE_PRESETS: readonly SizePreset[] = [
  { id: '512', label: '512²', width: 512, height: 512 },
  { id: '768', label: '768²', width: 768, height: 768 },
  { id: '1024', label: '1024²', width: 1024, height: 1024 },
];

export const CUSTOM_PRESET_ID = 'custom';

export function findPreset(id: string): SizePreset | undefined {
  return SIZE_PRESETS.find((p) => p.id === id);
}

/** The preset a width/height pair corresponds to, or `custom`. */
export function presetIdFor(width: number, height: number): string {
  return SIZE_PRESETS.find((p) => p.width === width && p.height === height)?.id ?? CUSTOM_PRESET_ID;
}

/**
 * Rounds a typed side to the nearest multiple of 8 within the allowed range; NaN gives the minimum.
 *
 * @example snapSide(1001) // 1000
 */
export function snapSide(value: number, min = MIN_SIDE, max = MAX_SIDE): number {
  if (!Number.isFinite(value)) return min;
  const snapped = Math.round(value / SIZE_STEP) * SIZE_STEP;
  return Math.min(max, Math.max(min, snapped));
}

/** Swaps width and height (portrait/landscape toggle). */
export function swapSides(size: { width: number; height: number }): { width: number; height: number } {
  return { width: size.height, height: size.width };
}

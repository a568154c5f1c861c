// What the Generate form does with a model's family (from the registry, server/models): SDXL
// checkpoints get SDXL's size presets (1024² and its aspect buckets) and, unless the user chose a
// size, switch the form to 1024²; LoRAs made for another family are marked (the engine refuses
// them with `model_family_mismatch`).
import type { SizePreset } from './size-presets.js';

/** Registry family ids (native/models/family.ts): sd1, sd2, sd2-v, sdxl, sd3, flux, unknown. */
export type FamilyId = string;

export const FAMILY_LABELS: Record<string, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', 'sd2-v': 'SD 2.x', sdxl: 'SDXL', sd3: 'SD 3', flux: 'Flux' };

/** SD1's presets stay the form's square ones; SDXL gets the ~1 megapixel training buckets. */
export const SDXL_SIZE_PRESETS: readonly SizePreset[] = [
  { id: '1024', label: '1024²', width: 1024, height: 1024 },
  { id: '1152x896', label: '1152×896', width: 1152, height: 896 },
  { id: '896x1152', label: '896×1152', width: 896, height: 1152 },
  { id: '1216x832', label: '1216×832', width: 1216, height: 832 },
  { id: '832x1216', label: '832×1216', width: 832, height: 1216 },
  { id: '1344x768', label: '1344×768', width: 1344, height: 768 },
  { id: '768x1344', label: '768×1344', width: 768, height: 1344 },
];

export function isSdxl(family: FamilyId | undefined): boolean {
  return family === 'sdxl';
}

/** The presets to offer for a checkpoint family (`base` = the form's default list). */
export function presetsFor(family: FamilyId | undefined, base: readonly SizePreset[]): readonly SizePreset[] {
  return isSdxl(family) ? SDXL_SIZE_PRESETS : base;
}

/** The family's default size: 1024² for SDXL, 512² otherwise. */
export function defaultSizeFor(family: FamilyId | undefined): { width: number; height: number; sizePreset: string } {
  return isSdxl(family) ? { width: 1024, height: 1024, sizePreset: '1024' } : { width: 512, height: 512, sizePreset: '512' };
}

/**
 * The size patch when the checkpoint changes: the new family's default, unless the user set a size
 * (`sizeTouched`) — then nothing changes.
 *
 * @example sizeOnModelChange('sd1', 'sdxl', false) // { width: 1024, height: 1024, sizePreset: '1024' }
 */
export function sizeOnModelChange(from: FamilyId | undefined, to: FamilyId | undefined, sizeTouched: boolean): { width: number; height: number; sizePreset: string } | null {
  if (sizeTouched || isSdxl(from) === isSdxl(to)) return null;
  return defaultSizeFor(to);
}

/** Why a LoRA cannot go with the checkpoint, or null when the families match or one is unknown. */
export function familyMismatch(lora: FamilyId | undefined, checkpoint: FamilyId | undefined): string | null {
  const known = (f: FamilyId | undefined): f is string => f !== undefined && f !== 'unknown' && f in FAMILY_LABELS;
  if (!known(lora) || !known(checkpoint)) return null;
  const norm = (f: string) => (f === 'sd2-v' ? 'sd2' : f);
  if (norm(lora) === norm(checkpoint)) return null;
  return `made for ${FAMILY_LABELS[lora]}; the checkpoint is ${FAMILY_LABELS[checkpoint]}`;
}

// The family registry: the module for a loaded checkpoint's family.
import type { SupportedFamily } from '../models/config.js';
import { SD1_FAMILY } from './sd1.js';
import { SDXL_FAMILY } from './sdxl/index.js';
import type { FamilyModule } from './types.js';

export const FAMILIES: Readonly<Record<SupportedFamily, FamilyModule>> = { sd1: SD1_FAMILY, sdxl: SDXL_FAMILY };

/** Example: `familyModule(checkpoint.family).defaultSize`. */
export function familyModule(id: SupportedFamily): FamilyModule {
  return FAMILIES[id];
}

export type { ConditioningContext, FamilyModule, LatentFormat, TextConditioner } from './types.js';

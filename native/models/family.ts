// Which model family a checkpoint belongs to, read from its (original single-file) key names.
//
// Rules, most specific first, each a marker that only that family's files carry:
//   sdxl  sgm layout: `conditioner.embedders.*` (CLIP-L + OpenCLIP bigG, or bigG alone in the refiner)
//         or a UNet `label_emb` (the ADM size/crop conditioning) without an ldm text encoder
//   sd2   ldm UNet with an OpenCLIP ViT-H text tower under `cond_stage_model.model.*`
//   sd1   ldm UNet with a transformers CLIP-L under `cond_stage_model.transformer.*`
//   sd3   MMDiT: `joint_blocks.*` (under `model.diffusion_model.` in single files)
//   flux  `double_blocks.*` and `single_blocks.*` (with or without `model.diffusion_model.`)
// Eps vs v prediction is not visible in the keys: SD2.1-768 (v) and SD2.1-base (eps) have the
// same tensors. `detectFamily` takes that as a hint (an explicit config, a diffusers scheduler
// config, or a user override) and otherwise answers 'sd2'.
import type { ModelFamily } from './config.js';

export const UNET_PREFIX = 'model.diffusion_model.';
export const VAE_PREFIX = 'first_stage_model.';
export const CLIP_L_PREFIX = 'cond_stage_model.transformer.text_model.';

export interface FamilyHints {
  /** From a declared config or a diffusers scheduler; only 'v' changes the answer (sd2 -> sd2-v). */
  parameterization?: 'eps' | 'v';
}

export interface FamilyDetection {
  family: ModelFamily;
  /** Which marker decided, for logs and error messages. */
  reason: string;
}

/** Example: `detectFamily(file.keys()).family === 'sd1'`. */
export function detectFamily(keys: Iterable<string>, hints: FamilyHints = {}): FamilyDetection {
  let unet = false;
  let labelEmb = false;
  let sgmConditioner = false;
  let openClip = false;
  let clipL = false;
  let jointBlocks = false;
  let doubleBlocks = false;
  for (const k of keys) {
    const bare = k.startsWith(UNET_PREFIX) ? k.slice(UNET_PREFIX.length) : k;
    if (bare.startsWith('joint_blocks.')) jointBlocks = true;
    else if (bare.startsWith('double_blocks.') || bare.startsWith('single_blocks.')) doubleBlocks = true;
    if (k.startsWith(UNET_PREFIX)) {
      unet = true;
      if (k.startsWith(`${UNET_PREFIX}label_emb.`)) labelEmb = true;
    } else if (k.startsWith('conditioner.embedders.')) sgmConditioner = true;
    else if (k.startsWith('cond_stage_model.model.')) openClip = true;
    // very old transformers versions saved CLIP without the `text_model.` level
    else if (k.startsWith('cond_stage_model.transformer.')) clipL = true;
  }
  if (jointBlocks) return { family: 'sd3', reason: 'joint_blocks.* (SD3 MMDiT)' };
  if (doubleBlocks) return { family: 'flux', reason: 'double_blocks.* / single_blocks.* (Flux)' };
  if (sgmConditioner) return { family: 'sdxl', reason: 'conditioner.embedders.* (sgm two-encoder layout)' };
  if (unet && labelEmb && !clipL && !openClip) return { family: 'sdxl', reason: 'UNet label_emb (ADM conditioning)' };
  if (unet && openClip) {
    return hints.parameterization === 'v'
      ? { family: 'sd2-v', reason: 'OpenCLIP text tower, v-prediction by hint' }
      : { family: 'sd2', reason: 'OpenCLIP text tower (cond_stage_model.model.*)' };
  }
  if (unet && clipL) return { family: 'sd1', reason: 'CLIP-L text encoder (cond_stage_model.transformer.*)' };
  return { family: 'unknown', reason: unet ? 'UNet without a known text encoder' : 'no ldm/sgm UNet keys' };
}

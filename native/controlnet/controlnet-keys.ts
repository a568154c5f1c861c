// The diffusers `ControlNetModel` naming → the lllyasviel / ldm names the ControlNet graph binds
// (without the `control_model.` prefix). The encoder copy is named exactly like the UNet's down
// half in diffusers, so it goes through the UNet mapping of keys-diffusers.ts; only the three
// ControlNet-specific parts are renamed here:
//   controlnet_cond_embedding.conv_in / blocks.j / conv_out -> input_hint_block.0 / .(2j+2) / .14
//   controlnet_down_blocks.i                                -> zero_convs.i.0
//   controlnet_mid_block                                    -> middle_block_out.0
// (the hint block is Sequential(conv, SiLU, conv, SiLU, ...): convs sit at even indices.)
import { CheckpointError } from '../models/checkpoint-error.js';
import { UNET_PREFIX } from '../models/family.js';
import { mapDiffusersKeys } from '../models/keys-diffusers.js';

/** The key that marks a diffusers ControlNet (the extension's test too). */
export const DIFFUSERS_CONTROLNET_MARKER = 'controlnet_cond_embedding.conv_in.weight';

/** One renamed tensor: `source` in the diffusers file, `target` its ldm name. */
export interface ControlNetKeyMapping {
  source: string;
  target: string;
}

function controlOnly(key: string): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^controlnet_cond_embedding\.conv_in\.(weight|bias)$/.exec(key))) return `input_hint_block.0.${m[1]}`;
  if ((m = /^controlnet_cond_embedding\.conv_out\.(weight|bias)$/.exec(key))) return `input_hint_block.14.${m[1]}`;
  if ((m = /^controlnet_cond_embedding\.blocks\.(\d+)\.(weight|bias)$/.exec(key))) return `input_hint_block.${2 * Number(m[1]) + 2}.${m[2]}`;
  if ((m = /^controlnet_down_blocks\.(\d+)\.(weight|bias)$/.exec(key))) return `zero_convs.${m[1]}.0.${m[2]}`;
  if ((m = /^controlnet_mid_block\.(weight|bias)$/.exec(key))) return `middle_block_out.0.${m[1]}`;
  return undefined;
}

/**
 * Maps every key of a diffusers ControlNetModel state dict to its ldm name; a key the layout does
 * not know throws CheckpointError `unknown_key`.
 *
 * @example mapDiffusersControlNetKeys(['controlnet_mid_block.weight']) // [{ source: ..., target: 'middle_block_out.0.weight' }]
 */
export function mapDiffusersControlNetKeys(keys: readonly string[]): ControlNetKeyMapping[] {
  const out: ControlNetKeyMapping[] = [];
  const rest: string[] = [];
  for (const k of keys) {
    const t = controlOnly(k);
    if (t) out.push({ source: k, target: t });
    else rest.push(k);
  }
  for (const m of mapDiffusersKeys('unet', rest)) {
    if (!m.target.startsWith(UNET_PREFIX) || m.sources || m.reshape || m.transpose) {
      throw new CheckpointError('unknown_key', `diffusers ControlNet: key "${m.source}" is not part of the ControlNet layout`);
    }
    out.push({ source: m.source, target: m.target.slice(UNET_PREFIX.length) });
  }
  return out;
}

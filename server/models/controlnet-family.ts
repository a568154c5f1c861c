// The family (SD1, SD2, SDXL) of a ControlNet file from its safetensors header alone: key names and
// tensor shapes, never the data, so the model listing stays cheap. Both layouts: lllyasviel's
// (`control_model.` + ldm names) and diffusers' `ControlNetModel` names.
//
// Rules, most specific first:
//   sdxl  ADM conditioning (`label_emb.*` / `add_embedding.*`), or cross-attention keys of width 2048
//   sd2   cross-attention keys of width 1024 (OpenCLIP-H)
//   sd1   cross-attention keys of width 768 (CLIP-L), or, for odd widths (tiny test models), the
//         SD1 convolutional `proj_in` (SD2 and SDXL use a linear one)
// A file with neither a hint block nor a cond embedding is not a ControlNet (T2I-Adapter,
// control-LoRA, IP-Adapter, ...): its family stays `unknown` and the engine refuses it by name.
import type { TensorInfo } from '../../native/io/safetensors.js';

export type ControlNetFamily = 'sd1' | 'sd2' | 'sdxl' | 'unknown';

const LDM_PREFIX = 'control_model.';
const CONTEXT_WIDTH: Record<number, ControlNetFamily> = { 768: 'sd1', 1024: 'sd2', 2048: 'sdxl' };

/**
 * @example controlNetFamily(file.keys(), (k) => file.info(k)) // 'sd1'
 */
export function controlNetFamily(keys: readonly string[], info: (key: string) => Pick<TensorInfo, 'shape'> | undefined): ControlNetFamily {
  const bare = (k: string): string => (k.startsWith(LDM_PREFIX) ? k.slice(LDM_PREFIX.length) : k);
  const names = keys.map(bare);
  const isControlNet = names.some((k) => k.startsWith('input_hint_block.') || k.startsWith('controlnet_cond_embedding.'));
  if (!isControlNet) return 'unknown';
  if (names.some((k) => k.startsWith('label_emb.') || k.startsWith('add_embedding.'))) return 'sdxl';
  const toK = keys.find((k) => k.endsWith('.attn2.to_k.weight'));
  const width = toK ? info(toK)?.shape[1] : undefined;
  if (width !== undefined && CONTEXT_WIDTH[width]) return CONTEXT_WIDTH[width];
  const projIn = keys.find((k) => k.endsWith('.proj_in.weight'));
  if (projIn && info(projIn)?.shape.length === 4) return 'sd1';
  return 'unknown';
}

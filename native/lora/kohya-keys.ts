// kohya-ss sd-scripts LoRA module names → the original-format (ldm / sgm) checkpoint key of the
// weight they modify, in the order A1111 v1.10.1's Lora extension tries them (networks.load_network):
//   1. `convert_diffusers_name_to_compvis`: diffusers UNet paths (`lora_unet_down_blocks_…`) with the
//      block renumbering of sd1-tiny README §11, SD1's `lora_te_text_model_…`, and SDXL's
//      `lora_te2_text_model_encoder_layers_i_…` → OpenCLIP `resblocks.i` (fc1 → c_fc, fc2 → c_proj,
//      self_attn → attn; q/k/v_proj land in thirds of the MultiheadAttention in_proj_weight);
//   2. SDXL files that already use sgm names: `lora_unet_input_blocks_4_1_…` → diffusion_model;
//   3. `lora_te1_text_model_…` → SDXL's CLIP-L (`conditioner.embedders.0.transformer`), or SD1's CLIP.
// A target that the checkpoint lacks is skipped (the caller checks shapes), as A1111 skips it.
import type { SupportedFamily } from '../models/config.js';

const UNET_PREFIX = 'model.diffusion_model.';
const TE_PREFIX = 'cond_stage_model.transformer.text_model.';
const SDXL_TE1_PREFIX = 'conditioner.embedders.0.transformer.text_model.';
const SDXL_TE2_PREFIX = 'conditioner.embedders.1.model.';

/** A target inside a larger weight: q, k or v third of an OpenCLIP attention's in_proj_weight. */
export const SLICE_SUFFIXES = ['#q', '#k', '#v'] as const;

/** ResBlock parts: diffusers name → ldm name. */
const RESNET_PARTS: Record<string, string> = {
  conv1: 'in_layers.2',
  conv2: 'out_layers.3',
  time_emb_proj: 'emb_layers.1',
  conv_shortcut: 'skip_connection',
};

/** Inside a SpatialTransformer: `transformer_blocks_0_attn1_to_out_0` → `transformer_blocks.0.attn1.to_out.0`. */
function transformerPart(rest: string): string | undefined {
  if (rest === 'proj_in' || rest === 'proj_out' || rest === 'norm') return rest;
  const m = /^transformer_blocks_(\d+)_(.+)$/.exec(rest);
  if (!m) return undefined;
  const inner = m[2];
  let mapped: string | undefined;
  let a: RegExpExecArray | null;
  if ((a = /^attn(\d+)_(to_q|to_k|to_v)$/.exec(inner))) mapped = `attn${a[1]}.${a[2]}`;
  else if ((a = /^attn(\d+)_to_out_0$/.exec(inner))) mapped = `attn${a[1]}.to_out.0`;
  else if (inner === 'ff_net_0_proj') mapped = 'ff.net.0.proj';
  else if (inner === 'ff_net_2') mapped = 'ff.net.2';
  else if (/^norm\d$/.test(inner)) mapped = inner;
  return mapped === undefined ? undefined : `transformer_blocks.${m[1]}.${mapped}`;
}

function unetModule(path: string): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^down_blocks_(\d+)_(resnets|attentions)_(\d+)_(.+)$/.exec(path))) {
    const block = 3 * Number(m[1]) + Number(m[3]) + 1;
    const part = m[2] === 'resnets' ? RESNET_PARTS[m[4]] : transformerPart(m[4]);
    return part && `input_blocks.${block}.${m[2] === 'resnets' ? 0 : 1}.${part}`;
  }
  if ((m = /^down_blocks_(\d+)_downsamplers_0_conv$/.exec(path))) return `input_blocks.${3 * Number(m[1]) + 3}.0.op`;
  if ((m = /^mid_block_attentions_0_(.+)$/.exec(path))) {
    const part = transformerPart(m[1]);
    return part && `middle_block.1.${part}`;
  }
  if ((m = /^mid_block_resnets_(\d+)_(.+)$/.exec(path))) {
    const part = RESNET_PARTS[m[2]];
    return part && `middle_block.${2 * Number(m[1])}.${part}`;
  }
  if ((m = /^up_blocks_(\d+)_(resnets|attentions)_(\d+)_(.+)$/.exec(path))) {
    const block = 3 * Number(m[1]) + Number(m[3]);
    const part = m[2] === 'resnets' ? RESNET_PARTS[m[4]] : transformerPart(m[4]);
    return part && `output_blocks.${block}.${m[2] === 'resnets' ? 0 : 1}.${part}`;
  }
  if ((m = /^up_blocks_(\d+)_upsamplers_0_conv$/.exec(path))) {
    const b = Number(m[1]);
    // SD1's first up block has no attentions, so its upsampler sits one slot earlier.
    return `output_blocks.${3 * b + 2}.${b === 0 ? 1 : 2}.conv`;
  }
  return undefined;
}

function textModule(path: string): string | undefined {
  const m = /^text_model_encoder_layers_(\d+)_(self_attn|mlp)_(.+)$/.exec(path);
  if (!m) return undefined;
  const ok = m[2] === 'self_attn' ? /^(q|k|v|out)_proj$/.test(m[3]) : /^fc[12]$/.test(m[3]);
  return ok ? `encoder.layers.${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** sgm module paths with `.` → `_` (`input_blocks_4_1_transformer_blocks_0_attn1_to_q`) back to dots. */
function sgmUnetModule(path: string): string | undefined {
  let m: RegExpExecArray | null;
  let block: string;
  let rest: string;
  if ((m = /^(input_blocks|output_blocks)_(\d+)_(\d+)_(.+)$/.exec(path))) {
    block = `${m[1]}.${m[2]}.${m[3]}`;
    rest = m[4]!;
  } else if ((m = /^middle_block_(\d+)_(.+)$/.exec(path))) {
    block = `middle_block.${m[1]}`;
    rest = m[2]!;
  } else if ((m = /^(time_embed|out)_(\d+)$/.exec(path))) return `${m[1]}.${m[2]}`;
  else if ((m = /^label_emb_0_(\d+)$/.exec(path))) return `label_emb.0.${m[1]}`;
  else return undefined;
  const res = /^(in_layers|out_layers|emb_layers)_(\d+)$/.exec(rest);
  if (res) return `${block}.${res[1]}.${res[2]}`;
  if (rest === 'skip_connection' || rest === 'op' || rest === 'conv') return `${block}.${rest}`;
  const t = transformerPart(rest);
  return t && `${block}.${t}`;
}

/** SDXL `lora_te2_text_model_encoder_layers_i_…` → the OpenCLIP resblock weight (A1111's rule). */
function openClipModule(path: string): string | undefined {
  const m = /^text_model_encoder_layers_(\d+)_(.+)$/.exec(path);
  if (!m) return undefined;
  const rb = `transformer.resblocks.${m[1]}`;
  const qkv = /^self_attn_([qkv])_proj$/.exec(m[2]!);
  if (qkv) return `${rb}.attn.in_proj_weight#${qkv[1]}`;
  if (m[2] === 'self_attn_out_proj') return `${rb}.attn.out_proj.weight`;
  if (m[2] === 'mlp_fc1') return `${rb}.mlp.c_fc.weight`;
  if (m[2] === 'mlp_fc2') return `${rb}.mlp.c_proj.weight`;
  return undefined;
}

/**
 * The checkpoint keys (`….weight`, possibly with a slice suffix `#q|#k|#v`) a kohya LoRA module may
 * modify, in A1111's order of trial; the first one the checkpoint has is the target. Empty for names
 * this engine does not know (the caller reports them and skips, as A1111 does).
 *
 * @example loraTargetCandidates('lora_unet_down_blocks_0_attentions_0_proj_in', 'sd1') // ['model.diffusion_model.input_blocks.1.1.proj_in.weight']
 */
export function loraTargetCandidates(moduleName: string, family: SupportedFamily = 'sd1'): string[] {
  const out: string[] = [];
  const add = (k: string | undefined, prefix: string, suffix = '.weight'): void => {
    if (k) out.push(`${prefix}${k}${k.includes('#') ? '' : suffix}`);
  };
  if (moduleName.startsWith('lora_unet_')) {
    const rest = moduleName.slice('lora_unet_'.length);
    add(unetModule(rest), UNET_PREFIX);
    if (family === 'sdxl') add(sgmUnetModule(rest), UNET_PREFIX);
  } else if (moduleName.startsWith('lora_te_')) {
    if (family === 'sd1') add(textModule(moduleName.slice('lora_te_'.length)), TE_PREFIX);
  } else if (moduleName.startsWith('lora_te1_')) {
    const rest = moduleName.slice('lora_te1_'.length);
    add(textModule(rest.startsWith('text_model_') ? rest : ''), family === 'sdxl' ? SDXL_TE1_PREFIX : TE_PREFIX);
  } else if (moduleName.startsWith('lora_te2_')) {
    if (family === 'sdxl') {
      const k = openClipModule(moduleName.slice('lora_te2_'.length));
      if (k) out.push(`${SDXL_TE2_PREFIX}${k}`);
    }
  }
  return out;
}

/**
 * The checkpoint key an SD1 kohya LoRA module modifies (the first candidate).
 *
 * @example loraTargetKey('lora_unet_down_blocks_0_attentions_0_proj_in') // 'model.diffusion_model.input_blocks.1.1.proj_in.weight'
 */
export function loraTargetKey(moduleName: string, family: SupportedFamily = 'sd1'): string | undefined {
  return loraTargetCandidates(moduleName, family)[0];
}

/** A target key without its slice suffix, and which third of the rows it covers (0 = all). */
export function splitTarget(target: string): { key: string; third: 0 | 1 | 2 | 3 } {
  const i = SLICE_SUFFIXES.findIndex((s) => target.endsWith(s));
  return i < 0 ? { key: target, third: 0 } : { key: target.slice(0, -2), third: (i + 1) as 1 | 2 | 3 };
}

/** Which model part a checkpoint key belongs to, for per-part multipliers and rebuilds. */
export function partOfKey(key: string): 'unet' | 'textEncoder' | 'other' {
  if (key.startsWith(UNET_PREFIX)) return 'unet';
  if (key.startsWith('cond_stage_model.') || key.startsWith('conditioner.')) return 'textEncoder';
  return 'other';
}

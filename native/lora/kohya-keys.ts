// kohya-ss sd-scripts LoRA module names → the original-format (ldm / A1111) checkpoint key of the
// weight they modify. kohya names are diffusers module paths with `.` replaced by `_` and a
// `lora_unet_` / `lora_te_` prefix; the block renumbering follows A1111's
// `convert_diffusers_name_to_compvis` (sd1-tiny README §11 states the rules). SD1.x only: SD2's
// OpenCLIP and SDXL's two text encoders (`lora_te1_`, `lora_te2_`) are not mapped.

const UNET_PREFIX = 'model.diffusion_model.';
const TE_PREFIX = 'cond_stage_model.transformer.text_model.';

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

/**
 * The checkpoint key (`….weight`) a kohya LoRA module modifies, or undefined for names this engine
 * does not know (the caller reports them and skips, as A1111 does).
 *
 * @example loraTargetKey('lora_unet_down_blocks_0_attentions_0_proj_in') // 'model.diffusion_model.input_blocks.1.1.proj_in.weight'
 */
export function loraTargetKey(moduleName: string): string | undefined {
  if (moduleName.startsWith('lora_unet_')) {
    const m = unetModule(moduleName.slice('lora_unet_'.length));
    return m && `${UNET_PREFIX}${m}.weight`;
  }
  if (moduleName.startsWith('lora_te_')) {
    const m = textModule(moduleName.slice('lora_te_'.length));
    return m && `${TE_PREFIX}${m}.weight`;
  }
  return undefined;
}

/** Which model part a checkpoint key belongs to, for per-part multipliers and rebuilds. */
export function partOfKey(key: string): 'unet' | 'textEncoder' | 'other' {
  if (key.startsWith(UNET_PREFIX)) return 'unet';
  if (key.startsWith('cond_stage_model.')) return 'textEncoder';
  return 'other';
}

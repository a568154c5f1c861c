// Every tensor a checkpoint holds, with its shape, derived from its config by walking the ldm /
// sgm / transformers / open_clip module structure (UNetModel, AutoencoderKL, CLIPTextModel,
// open_clip TextTransformer, DDPM buffers): SD1.x (`sd1KeySpec`) and SDXL (`sdxlKeySpec`). It is what graph builders bind, what `make-tiny-checkpoint` writes, and the check
// that a loaded checkpoint has nothing missing and nothing unexpected.
import type { DType } from '../io/dtype.js';
import { middleTransformerDepth, transformerDepthAt, type ClipTextConfig, type OpenClipTextConfig, type SD1Config, type SDXLConfig, type UNetConfig, type VaeConfig } from './config.js';
import { SCHEDULE_BUFFER_NAMES } from './ddpm-schedule.js';
import { CLIP_L_PREFIX, UNET_PREFIX, VAE_PREFIX } from './family.js';

export interface KeySpec {
  key: string;
  shape: number[];
  dtype: DType;
}

/** Ordered as ldm's `state_dict()`: schedule buffers, UNet, VAE, CLIP. */
export function sd1KeySpec(config: SD1Config): KeySpec[] {
  const out: KeySpec[] = [];
  for (const name of SCHEDULE_BUFFER_NAMES) out.push({ key: name, shape: [config.schedule.timesteps], dtype: 'F32' });
  unetKeys(config.unet, (key, shape) => out.push({ key: UNET_PREFIX + key, shape, dtype: 'F32' }));
  vaeKeys(config.vae, (key, shape) => out.push({ key: VAE_PREFIX + key, shape, dtype: 'F32' }));
  clipKeys(config.clip_text, (key, shape, dtype = 'F32') => out.push({ key: CLIP_L_PREFIX + key, shape, dtype }));
  return out;
}

/** Where sgm's GeneralConditioner keeps SDXL's two text models. */
export const SDXL_CLIP_L_PREFIX = 'conditioner.embedders.0.transformer.text_model.';
export const SDXL_OPEN_CLIP_PREFIX = 'conditioner.embedders.1.model.';
/** sgm DiscreteDenoiser's sigma buffer, present in SDXL files and unused (A1111 derives sigmas). */
export const SDXL_DENOISER_SIGMAS = 'denoiser.sigmas';

/** Ordered as sgm's DiffusionEngine `state_dict()`: UNet, denoiser, conditioner, VAE. */
export function sdxlKeySpec(config: SDXLConfig): KeySpec[] {
  const out: KeySpec[] = [];
  unetKeys(config.unet, (key, shape) => out.push({ key: UNET_PREFIX + key, shape, dtype: 'F32' }));
  out.push({ key: SDXL_DENOISER_SIGMAS, shape: [config.schedule.timesteps], dtype: 'F32' });
  clipKeys(config.clip_l, (key, shape, dtype = 'F32') => out.push({ key: SDXL_CLIP_L_PREFIX + key, shape, dtype }));
  openClipKeys(config.open_clip, (key, shape) => out.push({ key: SDXL_OPEN_CLIP_PREFIX + key, shape, dtype: 'F32' }));
  vaeKeys(config.vae, (key, shape) => out.push({ key: VAE_PREFIX + key, shape, dtype: 'F32' }));
  return out;
}

export interface KeySetDiff {
  missing: string[];
  unexpected: string[];
  /** Keys present on both sides whose shapes differ: `key: expected [..] got [..]`. */
  wrongShape: string[];
}

/** Compares a checkpoint's keys (and shapes) with what the config needs. */
export function diffKeySet(expected: KeySpec[], actual: Iterable<string>, shapeOf?: (key: string) => number[] | undefined): KeySetDiff {
  const want = new Map(expected.map((s) => [s.key, s.shape]));
  const have = new Set(actual);
  const missing = [...want.keys()].filter((k) => !have.has(k));
  const unexpected = [...have].filter((k) => !want.has(k));
  const wrongShape: string[] = [];
  if (shapeOf) {
    for (const [k, s] of want) {
      const got = have.has(k) ? shapeOf(k) : undefined;
      if (got && JSON.stringify(got) !== JSON.stringify(s)) wrongShape.push(`${k}: expected [${s.join(', ')}] got [${got.join(', ')}]`);
    }
  }
  return { missing, unexpected, wrongShape };
}

type Emit = (key: string, shape: number[], dtype?: DType) => void;

function linear(emit: Emit, name: string, out: number, inp: number, bias = true): void {
  emit(`${name}.weight`, [out, inp]);
  if (bias) emit(`${name}.bias`, [out]);
}
function conv(emit: Emit, name: string, out: number, inp: number, k: number): void {
  emit(`${name}.weight`, [out, inp, k, k]);
  emit(`${name}.bias`, [out]);
}
function norm(emit: Emit, name: string, ch: number): void {
  emit(`${name}.weight`, [ch]);
  emit(`${name}.bias`, [ch]);
}

export function unetKeys(u: UNetConfig, emit: Emit): void {
  const mc = u.model_channels;
  const embDim = mc * 4;
  const attnAt = new Set(u.attention_resolutions);

  const resBlock = (name: string, cin: number, cout: number): void => {
    norm(emit, `${name}.in_layers.0`, cin);
    conv(emit, `${name}.in_layers.2`, cout, cin, 3);
    linear(emit, `${name}.emb_layers.1`, cout, embDim);
    norm(emit, `${name}.out_layers.0`, cout);
    conv(emit, `${name}.out_layers.3`, cout, cout, 3);
    if (cin !== cout) conv(emit, `${name}.skip_connection`, cout, cin, 1);
  };
  const transformer = (name: string, ch: number, depth: number): void => {
    const inner = ch; // SD1/SD2: heads x head width = channels
    norm(emit, `${name}.norm`, ch);
    if (u.use_linear_in_transformer) linear(emit, `${name}.proj_in`, inner, ch);
    else conv(emit, `${name}.proj_in`, inner, ch, 1);
    for (let d = 0; d < depth; d++) {
      const b = `${name}.transformer_blocks.${d}`;
      for (const [attn, ctx] of [['attn1', inner], ['attn2', u.context_dim]] as const) {
        linear(emit, `${b}.${attn}.to_q`, inner, inner, false);
        linear(emit, `${b}.${attn}.to_k`, inner, ctx, false);
        linear(emit, `${b}.${attn}.to_v`, inner, ctx, false);
        linear(emit, `${b}.${attn}.to_out.0`, inner, inner);
        if (attn === 'attn1') {
          linear(emit, `${b}.ff.net.0.proj`, inner * 4 * 2, inner); // GEGLU: value and gate halves
          linear(emit, `${b}.ff.net.2`, inner, inner * 4);
        }
      }
      norm(emit, `${b}.norm1`, inner);
      norm(emit, `${b}.norm2`, inner);
      norm(emit, `${b}.norm3`, inner);
    }
    if (u.use_linear_in_transformer) linear(emit, `${name}.proj_out`, ch, inner);
    else conv(emit, `${name}.proj_out`, ch, inner, 1);
  };

  linear(emit, 'time_embed.0', embDim, mc);
  linear(emit, 'time_embed.2', embDim, embDim);
  if (u.adm_in_channels !== undefined) {
    linear(emit, 'label_emb.0.0', embDim, u.adm_in_channels);
    linear(emit, 'label_emb.0.2', embDim, embDim);
  }
  conv(emit, 'input_blocks.0.0', mc, u.in_channels, 3);
  const skipChannels = [mc];
  let ch = mc;
  let ds = 1;
  let block = 1;
  u.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < u.num_res_blocks; r++) {
      resBlock(`input_blocks.${block}.0`, ch, mult * mc);
      ch = mult * mc;
      if (attnAt.has(ds)) transformer(`input_blocks.${block}.1`, ch, transformerDepthAt(u, level));
      skipChannels.push(ch);
      block++;
    }
    if (level !== u.channel_mult.length - 1) {
      conv(emit, `input_blocks.${block}.0.op`, ch, ch, 3);
      skipChannels.push(ch);
      ds *= 2;
      block++;
    }
  });
  resBlock('middle_block.0', ch, ch);
  transformer('middle_block.1', ch, middleTransformerDepth(u));
  resBlock('middle_block.2', ch, ch);
  block = 0;
  for (let level = u.channel_mult.length - 1; level >= 0; level--) {
    const mult = u.channel_mult[level];
    for (let r = 0; r <= u.num_res_blocks; r++) {
      const skip = skipChannels.pop()!;
      resBlock(`output_blocks.${block}.0`, ch + skip, mc * mult);
      ch = mc * mult;
      let part = 1;
      if (attnAt.has(ds)) transformer(`output_blocks.${block}.${part++}`, ch, transformerDepthAt(u, level));
      if (level > 0 && r === u.num_res_blocks) {
        conv(emit, `output_blocks.${block}.${part}.conv`, ch, ch, 3);
        ds /= 2;
      }
      block++;
    }
  }
  norm(emit, 'out.0', mc);
  conv(emit, 'out.2', u.out_channels, mc, 3);
}

function vaeKeys(v: VaeConfig, emit: Emit): void {
  const levels = v.ch_mult.length;
  const resnet = (name: string, cin: number, cout: number): void => {
    norm(emit, `${name}.norm1`, cin);
    conv(emit, `${name}.conv1`, cout, cin, 3);
    norm(emit, `${name}.norm2`, cout);
    conv(emit, `${name}.conv2`, cout, cout, 3);
    if (cin !== cout) conv(emit, `${name}.nin_shortcut`, cout, cin, 1);
  };
  const attention = (name: string, c: number): void => {
    norm(emit, `${name}.norm`, c);
    for (const p of ['q', 'k', 'v', 'proj_out']) conv(emit, `${name}.${p}`, c, c, 1);
  };
  const mid = (prefix: string, c: number): void => {
    resnet(`${prefix}.mid.block_1`, c, c);
    attention(`${prefix}.mid.attn_1`, c);
    resnet(`${prefix}.mid.block_2`, c, c);
  };

  conv(emit, 'encoder.conv_in', v.ch, v.in_channels, 3);
  let c = v.ch;
  for (let l = 0; l < levels; l++) {
    const cout = v.ch * v.ch_mult[l];
    for (let j = 0; j < v.num_res_blocks; j++) {
      resnet(`encoder.down.${l}.block.${j}`, c, cout);
      c = cout;
    }
    if (l !== levels - 1) conv(emit, `encoder.down.${l}.downsample.conv`, c, c, 3);
  }
  mid('encoder', c);
  norm(emit, 'encoder.norm_out', c);
  conv(emit, 'encoder.conv_out', v.double_z ? 2 * v.z_channels : v.z_channels, c, 3);

  c = v.ch * v.ch_mult[levels - 1];
  conv(emit, 'decoder.conv_in', c, v.z_channels, 3);
  mid('decoder', c);
  for (let l = levels - 1; l >= 0; l--) {
    const cout = v.ch * v.ch_mult[l];
    for (let j = 0; j <= v.num_res_blocks; j++) {
      resnet(`decoder.up.${l}.block.${j}`, c, cout);
      c = cout;
    }
    if (l !== 0) conv(emit, `decoder.up.${l}.upsample.conv`, c, c, 3);
  }
  norm(emit, 'decoder.norm_out', c);
  conv(emit, 'decoder.conv_out', v.out_ch, c, 3);
  const z2 = v.double_z ? 2 * v.z_channels : v.z_channels;
  const e2 = v.double_z ? 2 * v.embed_dim : v.embed_dim;
  conv(emit, 'quant_conv', e2, z2, 1);
  conv(emit, 'post_quant_conv', v.z_channels, v.embed_dim, 1);
}

function clipKeys(c: ClipTextConfig, emit: Emit): void {
  const h = c.hidden_size;
  emit('embeddings.position_ids', [1, c.max_position_embeddings], 'I64');
  emit('embeddings.token_embedding.weight', [c.vocab_size, h]);
  emit('embeddings.position_embedding.weight', [c.max_position_embeddings, h]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `encoder.layers.${i}`;
    for (const p of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) linear(emit, `${l}.self_attn.${p}`, h, h);
    norm(emit, `${l}.layer_norm1`, h);
    linear(emit, `${l}.mlp.fc1`, c.intermediate_size, h);
    linear(emit, `${l}.mlp.fc2`, h, c.intermediate_size);
    norm(emit, `${l}.layer_norm2`, h);
  }
  norm(emit, 'final_layer_norm', h);
}

function openClipKeys(c: OpenClipTextConfig, emit: Emit): void {
  const w = c.width;
  const hidden = Math.round(w * c.mlp_ratio);
  emit('positional_embedding', [c.context_length, w]);
  emit('text_projection', [w, c.embed_dim]);
  emit('logit_scale', []);
  emit('token_embedding.weight', [c.vocab_size, w]);
  for (let i = 0; i < c.layers; i++) {
    const l = `transformer.resblocks.${i}`;
    emit(`${l}.ln_1.weight`, [w]);
    emit(`${l}.ln_1.bias`, [w]);
    emit(`${l}.attn.in_proj_weight`, [3 * w, w]);
    emit(`${l}.attn.in_proj_bias`, [3 * w]);
    linear(emit, `${l}.attn.out_proj`, w, w);
    norm(emit, `${l}.ln_2`, w);
    linear(emit, `${l}.mlp.c_fc`, hidden, w);
    linear(emit, `${l}.mlp.c_proj`, w, hidden);
  }
  norm(emit, 'ln_final', w);
}

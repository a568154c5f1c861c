// The ldm AutoencoderKL (model.py Encoder / Decoder) as ONNX graphs for one static shape:
//   decoder: z [B, 4, h, w] (already divided by scale_factor) -> post_quant_conv -> decoder -> image [B, 3, 8h, 8w]
//   encoder: image [B, 3, H, W] in [-1, 1] -> encoder -> quant_conv -> moments [B, 8, H/8, W/8] (mean, logvar)
// GroupNorm(32, eps 1e-6), SiLU, a single-head attention over H·W in the mid block, encoder
// downsampling = pad (0,1,0,1) then 3×3 stride-2 conv, decoder upsampling = nearest ×2 then 3×3 conv.
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { attention } from '../graph/ops-attention.js';
import { conv2d, groupNorm, silu } from '../graph/ops-nn.js';
import { conv3x3 } from '../graph/ops-winograd.js';
import type { WinogradPolicy } from '../graph/ops-winograd.js';
import { cast, reshape, transpose } from '../graph/ops-tensor.js';
import { upsampleConv2x } from '../graph/ops-upconv.js';
import { GraphError } from '../graph/graph-error.js';
import type { VaeConfig } from './config.js';
import { VAE_PREFIX } from './family.js';

const VAE_NORM_GROUPS = 32;
const VAE_NORM_EPS = 1e-6;

export interface VaeGraphOptions {
  batch: number;
  /** Latent height and width; images are `downscale` times larger. */
  height: number;
  width: number;
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
  /** Key prefix; default `first_stage_model.`. */
  prefix?: string;
  /**
   * Which 3×3 convolutions run by Winograd (native/graph/ops-winograd.ts); undefined = all direct.
   * The CPU runner sets CPU_WINOGRAD for float32 graphs; CUDA keeps cuDNN's own algorithms.
   */
  winograd?: WinogradPolicy;
}

export const VAE_DECODER_IO = { input: 'z', output: 'image' } as const;
export const VAE_ENCODER_IO = { input: 'image', output: 'moments' } as const;

/** Image pixels per latent pixel: 2^(levels-1), 8 for SD. */
export function vaeDownscale(cfg: VaeConfig): number {
  return 2 ** (cfg.ch_mult.length - 1);
}

function norm(g: GraphBuilder, x: Value, key: string): Value {
  return groupNorm(g, x, key, VAE_NORM_GROUPS, VAE_NORM_EPS);
}

/** ResnetBlock (no temb): norm1, SiLU, conv1, norm2, SiLU, conv2, plus identity or 1×1 nin_shortcut. */
function resnetBlock(g: GraphBuilder, x: Value, key: string, outChannels: number, wino: WinogradPolicy | undefined): Value {
  return g.scope(key, () => {
    let h = conv3x3(g, silu(g, norm(g, x, `${key}.norm1`)), `${key}.conv1`, wino); // [B, out, H, W]
    h = conv3x3(g, silu(g, norm(g, h, `${key}.norm2`)), `${key}.conv2`, wino);
    const skip = x.shape[1] === outChannels ? x : conv2d(g, x, `${key}.nin_shortcut`, { pads: 0 });
    return g.op('Add', [skip, h]);
  });
}

/** AttnBlock: single-head attention over the H·W positions, scale C^-0.5, 1×1 conv projections. */
function attnBlock(g: GraphBuilder, x: Value, key: string): Value {
  return g.scope(key, () => {
    const [b, c, hh, ww] = x.shape;
    const h = norm(g, x, `${key}.norm`);
    // Declared as 1×1 convs: some files store these projections as [C, C] linears.
    const proj = (v: Value, k: string) => conv2d(g, v, `${key}.${k}`, { pads: 0, weightShape: [c, c, 1, 1] });
    const tokens = (k: string) => transpose(g, reshape(g, proj(h, k), [b, c, hh * ww]), [0, 2, 1]); // [B, HW, C]
    const a = attention(g, tokens('q'), tokens('k'), tokens('v'), { heads: 1, name: key }); // [B, HW, C]
    const back = reshape(g, transpose(g, a, [0, 2, 1]), [b, c, hh, ww]); // [B, C, H, W]
    return g.op('Add', [x, proj(back, 'proj_out')]);
  });
}

function midBlock(g: GraphBuilder, h: Value, key: string, wino: WinogradPolicy | undefined): Value {
  const c = h.shape[1];
  h = resnetBlock(g, h, `${key}.block_1`, c, wino);
  h = attnBlock(g, h, `${key}.attn_1`);
  return resnetBlock(g, h, `${key}.block_2`, c, wino);
}

function checkShape(opts: VaeGraphOptions): void {
  const { batch, height, width } = opts;
  if (![batch, height, width].every((v) => Number.isInteger(v) && v > 0)) {
    throw new GraphError('graph_bad_config', `VAE shape must be positive integers, got batch ${batch}, latent ${height}×${width}`);
  }
}

/** Decoder graph including post_quant_conv: z [B, embed_dim, h, w] -> image [B, out_ch, 8h, 8w]. */
export function buildVaeDecoderGraph(cfg: VaeConfig, opts: VaeGraphOptions): BuiltGraph {
  checkShape(opts);
  const p = `${opts.prefix ?? VAE_PREFIX}`;
  const g = new GraphBuilder({ name: `vae-decoder-b${opts.batch}-${opts.height}x${opts.width}`, precision: opts.precision, weightShape: opts.weightShape });
  const z = g.input(VAE_DECODER_IO.input, 'float32', [opts.batch, cfg.embed_dim, opts.height, opts.width]);
  let h = conv2d(g, cast(g, z, g.floatType), `${p}post_quant_conv`, { pads: 0 }); // [B, z_channels, h, w]
  const wino = opts.winograd;
  h = conv3x3(g, h, `${p}decoder.conv_in`, wino); // [B, ch·mult[-1], h, w]
  h = midBlock(g, h, `${p}decoder.mid`, wino);
  for (let level = cfg.ch_mult.length - 1; level >= 0; level--) {
    const out = cfg.ch * cfg.ch_mult[level];
    for (let i = 0; i <= cfg.num_res_blocks; i++) h = resnetBlock(g, h, `${p}decoder.up.${level}.block.${i}`, out, wino);
    if (level !== 0) h = upsampleConv2x(g, h, `${p}decoder.up.${level}.upsample.conv`); // [B, C, 2H, 2W]
  }
  h = conv3x3(g, silu(g, norm(g, h, `${p}decoder.norm_out`)), `${p}decoder.conv_out`, wino); // [B, 3, 8h, 8w]
  g.output(cast(g, h, 'float32'), VAE_DECODER_IO.output);
  return g.build();
}

/** Encoder graph including quant_conv: image [B, 3, 8h, 8w] -> moments [B, 2·embed_dim, h, w]. */
export function buildVaeEncoderGraph(cfg: VaeConfig, opts: VaeGraphOptions): BuiltGraph {
  checkShape(opts);
  const p = `${opts.prefix ?? VAE_PREFIX}`;
  const f = vaeDownscale(cfg);
  const g = new GraphBuilder({ name: `vae-encoder-b${opts.batch}-${opts.height}x${opts.width}`, precision: opts.precision, weightShape: opts.weightShape });
  const img = g.input(VAE_ENCODER_IO.input, 'float32', [opts.batch, cfg.in_channels, opts.height * f, opts.width * f]);
  const wino = opts.winograd;
  let h = conv3x3(g, cast(g, img, g.floatType), `${p}encoder.conv_in`, wino); // [B, ch, H, W]
  cfg.ch_mult.forEach((mult, level) => {
    for (let i = 0; i < cfg.num_res_blocks; i++) h = resnetBlock(g, h, `${p}encoder.down.${level}.block.${i}`, cfg.ch * mult, wino);
    if (level !== cfg.ch_mult.length - 1) {
      // torch: F.pad(x, (0, 1, 0, 1)) then Conv2d(k=3, stride=2, padding=0)
      h = conv2d(g, h, `${p}encoder.down.${level}.downsample.conv`, { stride: 2, pads: [0, 0, 1, 1] }); // [B, C, H/2, W/2]
    }
  });
  h = midBlock(g, h, `${p}encoder.mid`, wino);
  h = conv3x3(g, silu(g, norm(g, h, `${p}encoder.norm_out`)), `${p}encoder.conv_out`, wino); // [B, 2·z, h, w]
  h = conv2d(g, h, `${p}quant_conv`, { pads: 0 }); // [B, 2·embed_dim, h, w]
  g.output(cast(g, h, 'float32'), VAE_ENCODER_IO.output);
  return g.build();
}

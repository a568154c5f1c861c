// The ControlNet (cldm.py ControlNet.forward) as an ONNX graph for one static request shape:
// x [B, 4, h, w], t [B], context [B, T, ctx] (+ SDXL's y [B, adm]) and the hint [1, 3, 8h, 8w]
// (one hint broadcast over the cond/uncond batch) -> one residual per UNet skip connection plus one
// for the middle block (SD1: 13). The encoder copy is the UNet's own code (unet-graph.ts):
//   emb = time_embed(timestep_embedding(t)); g = input_hint_block(hint)
//   h = input_blocks[0](x) + g; h_i = input_blocks[i](h_{i-1}); out_i = zero_convs[i](h_i)
//   out_last = middle_block_out(middle_block(h))
// input_hint_block is Sequential(conv 3→16, SiLU, conv 16→16, SiLU, conv 16→32 s2, SiLU, conv 32→32,
// SiLU, conv 32→96 s2, SiLU, conv 96→96, SiLU, conv 96→256 s2, SiLU, conv 256→mc): convs at 0, 2, …, 14.
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision, Value } from '../graph/builder.js';
import { GraphError } from '../graph/graph-error.js';
import { conv2d, silu } from '../graph/ops-nn.js';
import { cast } from '../graph/ops-tensor.js';
import { UNET_INPUTS, unetInputBlocks, unetMiddleBlock, unetTimeEmbedding, unetTransformer } from '../models/unet-graph.js';
import { projectedKV } from '../models/unet-blocks.js';
import type { ControlNetConfig } from './controlnet-file.js';

export interface ControlNetGraphOptions {
  batch: number;
  /** Latent height and width (image size / 8); the hint is 8× larger. */
  height: number;
  width: number;
  tokens: number;
  precision?: Precision;
  weightShape?: (key: string) => readonly number[] | undefined;
}

export const CONTROLNET_INPUTS = { ...UNET_INPUTS, hint: 'hint' } as const;

/** Output `i` of the ControlNet graph (`out.00` … `out.12` for SD1, as the fixture names them). */
export function controlNetOutputName(i: number): string {
  return `out.${String(i).padStart(2, '0')}`;
}

/** Residuals a ControlNet of this config returns: one per input block plus the middle block. */
export function controlNetResidualCount(cfg: ControlNetConfig): number {
  const levels = cfg.unet.channel_mult.length;
  return 1 + levels * cfg.unet.num_res_blocks + (levels - 1) + 1;
}

const HINT_STRIDES = [1, 1, 2, 1, 2, 1, 2, 1];

/** Builds the ControlNet for one (batch, latent size, context length). */
export function buildControlNetGraph(cfg: ControlNetConfig, opts: ControlNetGraphOptions): BuiltGraph {
  const { batch, height, width, tokens } = opts;
  if (![batch, height, width, tokens].every((v) => Number.isInteger(v) && v > 0)) {
    throw new GraphError('graph_bad_config', `ControlNet shape must be positive integers, got batch ${batch}, ${height}×${width}, ${tokens} tokens`);
  }
  const u = cfg.unet;
  const g = new GraphBuilder({ name: `controlnet-b${batch}-${height}x${width}-t${tokens}`, precision: opts.precision, weightShape: opts.weightShape });
  const xIn = g.input(CONTROLNET_INPUTS.x, 'float32', [batch, u.in_channels, height, width]);
  const tIn = g.input(CONTROLNET_INPUTS.t, 'float32', [batch]);
  const ctxIn = g.input(CONTROLNET_INPUTS.context, 'float32', [batch, tokens, u.context_dim]);
  const hintIn = g.input(CONTROLNET_INPUTS.hint, 'float32', [1, cfg.hint_channels, height * 8, width * 8]);
  const context = cast(g, ctxIn, g.floatType);
  const { embAct } = unetTimeEmbedding(g, u, tIn, batch, '');
  const transformer = unetTransformer(g, u, projectedKV(g, context));

  let hint: Value = cast(g, hintIn, g.floatType);
  HINT_STRIDES.forEach((stride, j) => {
    hint = conv2d(g, hint, `input_hint_block.${2 * j}`, { stride, pads: 1 });
    if (j < HINT_STRIDES.length - 1) hint = silu(g, hint);
  }); // [1, mc, h, w]
  if (hint.shape[2] !== height || hint.shape[3] !== width) {
    throw new GraphError('graph_bad_config', `ControlNet hint block gives ${hint.shape[2]}×${hint.shape[3]}, latent is ${height}×${width}`);
  }

  const outs: Value[] = [];
  let h = unetInputBlocks(g, u, cast(g, xIn, g.floatType), embAct, transformer, '', (out, block) => {
    const next = block === 0 ? g.op('Add', [out, hint]) : out; // the hint joins after the first conv
    outs.push(conv2d(g, next, `zero_convs.${block}.0`, { pads: 0 }));
    return next;
  });
  h = unetMiddleBlock(g, u, h, embAct, transformer, '');
  outs.push(conv2d(g, h, 'middle_block_out.0', { pads: 0 }));
  outs.forEach((o, i) => g.output(cast(g, o, 'float32'), controlNetOutputName(i)));
  return g.build();
}

// The TAESD decoder as an ONNX graph over native/graph, for one latent size. Weight names are the
// original layout's keys (architecture.ts), so a graph binds to any file once its keys are
// normalised (taesd-file.ts). Input: latents as the UNet sees them ([1, 4, h, w], A1111 feeds
// TAESD the sampler's latents without dividing by the VAE scale factor); output: [1, 3, 8h, 8w]
// in about [0, 1], unclamped. Always float32, one graph for the CPU and CUDA providers (fp16 on
// CUDA is not tried: the preview is an approximation and the network has 1.2 M parameters).
import { GraphBuilder, type BuiltGraph, type Value } from '../graph/builder.js';
import { conv2d } from '../graph/ops-nn.js';
import { upsampleNearest2x } from '../graph/ops-tensor.js';
import { BLOCK_CONVS, TAESD_DECODER_LAYERS, decoderTensorShapes } from './architecture.js';

export interface TaesdGraphOptions {
  /** Feature channels (64 in the published TAESD/TAESDXL; tests use fewer). */
  channels: number;
  latentChannels: number;
  h: number;
  w: number;
}

const relu = (g: GraphBuilder, x: Value): Value => g.op('Relu', [x]);

function convNoBias(g: GraphBuilder, x: Value, key: string): Value {
  const w = g.weight(`${key}.weight`);
  return g.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, { name: key });
}

function block(g: GraphBuilder, x: Value, key: string): Value {
  let h = x;
  BLOCK_CONVS.forEach((c, i) => {
    h = conv2d(g, h, `${key}.conv.${c}`);
    if (i < BLOCK_CONVS.length - 1) h = relu(g, h);
  });
  return relu(g, g.op('Add', [h, x]));
}

/** The decoder graph for [1, latentChannels, h, w] latents. */
export function buildTaesdDecoderGraph(opts: TaesdGraphOptions): BuiltGraph {
  const shapes = decoderTensorShapes(opts.channels, opts.latentChannels);
  const g = new GraphBuilder({ name: `taesd-decoder-${opts.w}x${opts.h}`, weightShape: (k) => shapes.get(k) });
  let x: Value = g.input('latent', 'float32', [1, opts.latentChannels, opts.h, opts.w]);
  for (const l of TAESD_DECODER_LAYERS) {
    const key = String(l.index);
    switch (l.kind) {
      case 'clamp': // tanh(x / 3) · 3: soft-limits the latents to ±3
        x = g.op('Mul', [g.op('Tanh', [g.op('Div', [x, g.scalar(3)])]), g.scalar(3)]);
        break;
      case 'conv':
        x = l.bias ? conv2d(g, x, key) : convNoBias(g, x, key);
        break;
      case 'relu':
        x = relu(g, x);
        break;
      case 'block':
        x = block(g, x, key);
        break;
      case 'upsample':
        x = upsampleNearest2x(g, x);
        break;
    }
  }
  g.output(x, 'image');
  return g.build();
}

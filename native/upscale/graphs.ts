// ONNX graphs of the two upscaler networks, for one fixed input size (one session per tile shape).
// Node and weight names are the old-layout checkpoint keys, so a graph binds straight to the
// converted state dict. Always float32: A1111 runs its ESRGAN upscalers in float32, and fp16 changes
// pixels.
import { GraphBuilder, float, type BuiltGraph, type Value } from '../graph/builder.js';
import { conv2d } from '../graph/ops-nn.js';
import { reshape, resizeNearest, transpose, upsampleNearest2x } from '../graph/ops-tensor.js';
import type { CompactSpec, EsrganSpec, UpscalerSpec } from './architectures.js';

const lrelu = (g: GraphBuilder, x: Value): Value => g.op('LeakyRelu', [x], { alpha: float(0.2) });

/** torch.pixel_unshuffle: out[c·r² + r·i + j, y, x] = in[c, r·y + i, r·x + j]. */
function pixelUnshuffle(g: GraphBuilder, x: Value, r: number): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const six = reshape(g, x, [n, c, h / r, r, w / r, r]);
  return reshape(g, transpose(g, six, [0, 1, 3, 5, 2, 4]), [n, c * r * r, h / r, w / r]);
}

/** torch.pixel_shuffle: out[c, r·y + i, r·x + j] = in[c·r² + r·i + j, y, x]. */
function pixelShuffle(g: GraphBuilder, x: Value, r: number): Value {
  const [n, cr, h, w] = x.shape as [number, number, number, number];
  const c = cr / (r * r);
  const six = reshape(g, x, [n, c, r, r, h, w]);
  return reshape(g, transpose(g, six, [0, 1, 4, 2, 5, 3]), [n, c, h * r, w * r]);
}

function scaled(g: GraphBuilder, x: Value, s: number): Value {
  return g.op('Mul', [x, g.scalar(s)]);
}

function rdb(g: GraphBuilder, x: Value, key: string, plus: boolean): Value {
  const c = (v: Value, k: number) => conv2d(g, v, `${key}.conv${k}.0`);
  const cat = (...vs: Value[]) => g.op('Concat', vs, { axis: 1 });
  const x1 = lrelu(g, c(x, 1));
  let x2 = lrelu(g, c(cat(x, x1), 2));
  if (plus) {
    const w = g.weight(`${key}.conv1x1.weight`);
    x2 = g.op('Add', [x2, g.op('Conv', [x, w], { kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] }, { name: `${key}.conv1x1` })]);
  }
  const x3 = lrelu(g, c(cat(x, x1, x2), 3));
  let x4 = lrelu(g, c(cat(x, x1, x2, x3), 4));
  if (plus) x4 = g.op('Add', [x4, x2]);
  const x5 = c(cat(x, x1, x2, x3, x4), 5);
  return g.op('Add', [scaled(g, x5, 0.2), x]);
}

function esrgan(g: GraphBuilder, x: Value, spec: EsrganSpec): Value {
  let h = spec.shuffle ? pixelUnshuffle(g, x, spec.shuffle) : x;
  const fea = conv2d(g, h, 'model.0');
  let trunk = fea;
  for (let i = 0; i < spec.numBlocks; i++) {
    const key = `model.1.sub.${i}`;
    const inp = trunk;
    let r = inp;
    for (let j = 1; j <= 3; j++) r = rdb(g, r, `${key}.RDB${j}`, spec.plus);
    trunk = g.op('Add', [scaled(g, r, 0.2), inp]);
  }
  h = g.op('Add', [fea, conv2d(g, trunk, `model.1.sub.${spec.numBlocks}`)]);
  for (let n = 1; n <= spec.upconvs; n++) h = lrelu(g, conv2d(g, upsampleNearest2x(g, h), `model.${3 * n}`));
  h = lrelu(g, conv2d(g, h, `model.${3 * spec.upconvs + 2}`));
  return conv2d(g, h, `model.${3 * spec.upconvs + 4}`);
}

function compact(g: GraphBuilder, x: Value, spec: CompactSpec): Value {
  const prelu = (v: Value, key: string) => g.op('PRelu', [v, g.weight(`${key}.weight`, { shape: [spec.numFilters, 1, 1] })], {}, { name: key });
  let h = prelu(conv2d(g, x, 'body.0'), 'body.1');
  for (let i = 1; i <= spec.numConv; i++) h = prelu(conv2d(g, h, `body.${2 * i}`), `body.${2 * i + 1}`);
  h = pixelShuffle(g, conv2d(g, h, `body.${2 * spec.numConv + 2}`), spec.scale);
  const [, , height, width] = x.shape as [number, number, number, number];
  return g.op('Add', [h, resizeNearest(g, x, height * spec.scale, width * spec.scale)]);
}

/** The network for an input of [1, C, height, width] (already padded to the size requirements). */
export function buildUpscalerGraph(spec: UpscalerSpec, height: number, width: number): BuiltGraph {
  const g = new GraphBuilder({
    name: `upscaler-${spec.arch}-${width}x${height}`,
    weightShape: (key) => spec.tensors.get(key)?.shape,
  });
  const x = g.input('x', 'float32', [1, spec.inChannels, height, width]);
  const y = spec.arch === 'ESRGAN' ? esrgan(g, x, spec) : compact(g, x, spec);
  g.output(y, 'y');
  return g.build();
}

// `conv3×3(interpolate(x, scale_factor=2, mode="nearest"))` — the upsampling of the ldm UNet and
// VAE decoder — without the 4× larger upsampled tensor and with 4/9 of the multiply-adds.
//
// After a nearest 2× upsample, the 3×3 window of output pixel (2i+a, 2j+b) covers only 2×2 distinct
// input pixels: for a = 0 the rows 2i-1, 2i, 2i+1 read input rows i-1, i, i (kernel rows
// [w0, w1+w2] over i-1..i); for a = 1 rows 2i, 2i+1, 2i+2 read i, i, i+1 ([w0+w1, w2] over i..i+1);
// columns likewise. So each of the four output phases (a, b) is a 2×2 convolution of x with summed
// kernels, padded on the side it reaches out to, and DepthToSpace (DCR) interleaves the phases.
// The summed kernels are MatMuls of the weight with constant 0/1 matrices, which ORT's constant
// folding evaluates once at session creation: the checkpoint's 3×3 tensor stays the only binding.
// Same arithmetic up to float rounding of the summed kernels (about 1e-7 relative).
import type { GraphBuilder, Value } from './builder.js';
import { GraphError } from './graph-error.js';
import { conv2d } from './ops-nn.js';
import { cast, upsampleNearest2x } from './ops-tensor.js';

/**
 * Below this many input positions (per image) the plain Resize + 3×3 conv is kept: there the conv is
 * bound by reading its weights, and the four phase kernels are 16/9 of the 3×3 kernel's bytes (the
 * UNet at 64² images, whose upsamplers see 1×1 to 4×4 inputs).
 */
export const PHASE_CONV_MIN_AREA = 64;

/** [3 taps, 2 input offsets] 0/1 matrices, row-major, per phase. */
const PHASE_SUM: readonly (readonly number[])[] = [
  [1, 0, 0, 1, 0, 1], // phase 0: tap 0 -> offset -1; taps 1, 2 -> offset 0
  [1, 0, 1, 0, 0, 1], // phase 1: taps 0, 1 -> offset 0; tap 2 -> offset +1
];

/** nn.Conv2d(C, C', 3, padding=1) applied to a nearest ×2 upsample of x [B, C, H, W] -> [B, C', 2H, 2W]. */
export function upsampleConv2x(g: GraphBuilder, x: Value, key: string, minArea = PHASE_CONV_MIN_AREA): Value {
  if (x.shape[2] * x.shape[3] < minArea) return conv2d(g, upsampleNearest2x(g, x), key);
  const w = g.weight(`${key}.weight`);
  const b = g.weight(`${key}.bias`);
  if (w.shape.length !== 4 || w.shape[2] !== 3 || w.shape[3] !== 3) {
    throw new GraphError('graph_shape_mismatch', `upsampleConv2x ${key}: expected a 3×3 kernel, got [${w.shape.join(',')}]`);
  }
  // Kernel sums in float32 even in fp16 graphs (they are folded into constants, not run per image).
  const w32 = cast(g, w, 'float32');
  const right = (a: number) => g.constant('float32', [3, 2], PHASE_SUM[a], 'upconv_sum');
  const left = (a: number) => {
    const m = PHASE_SUM[a];
    return g.constant('float32', [2, 3], [m[0], m[2], m[4], m[1], m[3], m[5]], 'upconv_sumT');
  };
  const phases: Value[] = [];
  for (const a of [0, 1]) {
    for (const c of [0, 1]) {
      const k = cast(g, g.op('MatMul', [left(a), g.op('MatMul', [w32, right(c)])]), w.dtype); // [C', C, 2, 2]
      // ONNX pads [top, left, bottom, right]: phase 0 reaches one row/column up/left, phase 1 down/right
      const pads = [1 - a, 1 - c, a, c];
      phases.push(g.op('Conv', [x, k, b], { kernel_shape: [2, 2], pads, strides: [1, 1] }, { name: `${key}.phase${a}${c}` }));
    }
  }
  // channel block p = 2a + c holds phase (a, c): DCR puts it at row offset a, column offset c
  return g.op('DepthToSpace', [g.op('Concat', phases, { axis: 1 })], { blocksize: 2, mode: 'DCR' }, { name: key });
}

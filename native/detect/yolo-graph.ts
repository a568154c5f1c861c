// The YOLOv8 network as our own ONNX graph, built from the checkpoint's own architecture (`yaml`:
// backbone + head lists of `[from, repeats, module, args]`, as Ultralytics' parse_model reads them)
// and its weights. Channel counts, kernel sizes and C2f repeats come from the weight shapes, so any
// depth/width multiple and class count works; strides, shortcuts and pool sizes come from the yaml
// arguments. Conv+BN pairs are fused the way Ultralytics' fuse_conv_and_bn does at load time
// (float32), so the graph is Conv(+bias) → SiLU everywhere. The graph ends at Detect's raw
// per-level outputs (box DFL logits, class logits, mask coefficients) and the Proto output;
// decoding, NMS and masks happen in postprocess.ts.
import { GraphBuilder, type BuiltGraph, type Value } from '../graph/builder.js';
import { conv2d, silu } from '../graph/ops-nn.js';
import { concat, resizeNearest, split } from '../graph/ops-tensor.js';
import type { WeightSource } from '../runtime/weights.js';
import { DetectorError } from './detector-error.js';
import { familyOf, type DetectorCheckpoint, type DetectorTask, type YoloYaml } from './detector-file.js';

export type YoloModule = 'Conv' | 'C2f' | 'SPPF' | 'Upsample' | 'Concat' | 'Detect' | 'Segment';

export interface YoloLayer {
  readonly index: number;
  /** Absolute indices of the inputs (-1 resolved); -1 = the image. */
  readonly from: readonly number[];
  readonly module: YoloModule;
  /** The yaml arguments as written (before parse_model inserts channel counts). */
  readonly args: readonly unknown[];
}

export interface YoloArchitecture {
  readonly layers: readonly YoloLayer[];
  readonly task: DetectorTask;
  readonly nc: number;
  /** DFL bins per box side (16). */
  readonly regMax: number;
  /** Mask coefficients per detection (segment only). */
  readonly nm: number;
  /** Detect's input levels (layer indices) and their strides. */
  readonly levels: readonly number[];
  readonly strides: readonly number[];
}

const SUPPORTED: Record<string, YoloModule> = {
  Conv: 'Conv',
  C2f: 'C2f',
  SPPF: 'SPPF',
  'nn.Upsample': 'Upsample',
  Upsample: 'Upsample',
  Concat: 'Concat',
  Detect: 'Detect',
  Segment: 'Segment',
};

/** Reads the architecture and checks it against the weights; other families → `unsupported_detector`. */
export function parseArchitecture(ck: Pick<DetectorCheckpoint, 'path' | 'yaml' | 'tensors'>): YoloArchitecture {
  const { yaml, path } = ck;
  checkActivation(yaml, path);
  const rows = [...yaml.backbone, ...yaml.head];
  const layers: YoloLayer[] = [];
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length < 4) throw new DetectorError('bad_model_file', `${path}: layer ${i} of the yaml is not [from, n, module, args]`);
    const [f, n, name, args] = row;
    const module = SUPPORTED[String(name)];
    if (!module) {
      const family = familyOf(String(name).replace(/^nn\./, ''));
      throw new DetectorError('unsupported_detector', `${path}: layer ${i} is ${String(name)}${family ? ` (${family})` : ''}; only YOLOv8 detection and segmentation models (Conv, C2f, SPPF, Upsample, Concat, Detect, Segment) are supported`);
    }
    if (n !== 1 && module !== 'C2f') throw new DetectorError('unsupported_detector', `${path}: layer ${i} repeats ${String(name)} ${String(n)} times; not a YOLOv8 layout`);
    const from = (Array.isArray(f) ? f : [f]).map((x) => (x === -1 ? i - 1 : Number(x)));
    if (from.some((x) => !Number.isInteger(x) || x < -1 || x >= i)) throw new DetectorError('bad_model_file', `${path}: layer ${i} takes input from ${JSON.stringify(f)}`);
    layers.push({ index: i, from, module, args: Array.isArray(args) ? args : [] });
  });
  const head = layers[layers.length - 1];
  if (!head || (head.module !== 'Detect' && head.module !== 'Segment')) {
    throw new DetectorError('unsupported_detector', `${path}: the last layer is ${head?.module ?? 'missing'}, not Detect or Segment`);
  }
  if (layers.slice(0, -1).some((l) => l.module === 'Detect' || l.module === 'Segment')) throw new DetectorError('unsupported_detector', `${path}: more than one detection head`);
  const p = `model.${head.index}`;
  const t = ck.tensors;
  const cls0 = t.get(`${p}.cv3.0.2.weight`);
  const box0 = t.get(`${p}.cv2.0.2.weight`);
  if (t.has(`${p}.cv3.0.0.0.conv.weight`)) throw new DetectorError('unsupported_detector', `${path}: the head uses depthwise class branches (YOLO11-style Detect)`);
  if (t.has(`${p}.one2one_cv2.0.0.conv.weight`)) throw new DetectorError('unsupported_detector', `${path}: the head is end-to-end (YOLOv10)`);
  if (!cls0 || !box0) throw new DetectorError('bad_model_file', `${path}: the detection head has no weights (${p}.cv2/cv3)`);
  const nc = cls0.shape[0];
  const regMax = box0.shape[0] / 4;
  if (!Number.isInteger(regMax) || regMax < 1) throw new DetectorError('bad_model_file', `${path}: box branch of ${box0.shape[0]} channels`);
  if (yaml.nc !== undefined && yaml.nc !== nc) throw new DetectorError('bad_model_file', `${path}: yaml says ${yaml.nc} classes, weights have ${nc}`);
  const task: DetectorTask = head.module === 'Segment' ? 'segment' : 'detect';
  const nm = task === 'segment' ? (t.get(`${p}.cv4.0.2.weight`)?.shape[0] ?? 0) : 0;
  if (task === 'segment' && (!nm || !t.has(`${p}.proto.cv3.conv.weight`))) throw new DetectorError('bad_model_file', `${path}: the segmentation head has no mask weights`);
  const strides = layerStrides(layers);
  return { layers, task, nc, regMax, nm, levels: head.from, strides: head.from.map((i) => strides[i]) };
}

function checkActivation(yaml: YoloYaml, path: string): void {
  const act = yaml.activation;
  if (act !== undefined && act !== null && !/SiLU\(\)\s*$/.test(String(act))) {
    throw new DetectorError('unsupported_detector', `${path}: activation ${String(act)} (only SiLU is supported)`);
  }
}

/** Output stride of every layer relative to the image (Conv stride args, Upsample factors). */
function layerStrides(layers: readonly YoloLayer[]): number[] {
  const out: number[] = [];
  for (const l of layers) {
    const inStride = l.from[0] === -1 ? 1 : out[l.from[0]];
    if (l.module === 'Conv') out.push(inStride * convStride(l));
    else if (l.module === 'Upsample') out.push(inStride / upsampleScale(l));
    else out.push(inStride);
  }
  return out;
}

function convStride(l: YoloLayer): number {
  const s = l.args[2];
  return typeof s === 'number' ? s : 1;
}

function upsampleScale(l: YoloLayer): number {
  const s = l.args[1];
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 1) throw new DetectorError('unsupported_detector', `layer ${l.index}: Upsample by ${String(s)}`);
  if (l.args[2] !== undefined && l.args[2] !== 'nearest') throw new DetectorError('unsupported_detector', `layer ${l.index}: Upsample mode ${String(l.args[2])}`);
  return s;
}

/**
 * The checkpoint's tensors with every Conv+BN pair fused: `<m>.conv.weight` scaled per output channel
 * by γ/√(var+eps) and a new `<m>.conv.bias` = β − γ·mean/√(var+eps), in float32 like Ultralytics.
 */
export function fusedWeights(ck: Pick<DetectorCheckpoint, 'tensors' | 'bnEps'>): WeightSource {
  const t = ck.tensors;
  const bnOf = (key: string): string | undefined => {
    const m = /^(.*)\.conv\.(weight|bias)$/.exec(key);
    return m && t.has(`${m[1]}.bn.weight`) ? m[1] : undefined;
  };
  const cache = new Map<string, Promise<{ scale: Float32Array; bias: Float32Array }>>();
  const bnParams = (m: string) => {
    let p = cache.get(m);
    if (!p) {
      p = (async () => {
        const [gamma, beta, mean, variance] = await Promise.all(['weight', 'bias', 'running_mean', 'running_var'].map((n) => read(`${m}.bn.${n}`)));
        const f = Math.fround;
        const eps = f(ck.bnEps);
        const scale = new Float32Array(gamma.length);
        const bias = new Float32Array(gamma.length);
        for (let c = 0; c < gamma.length; c++) {
          const sd = f(Math.sqrt(f(variance[c] + eps)));
          scale[c] = f(gamma[c] / sd);
          bias[c] = f(beta[c] - f(f(gamma[c] * mean[c]) / sd));
        }
        return { scale, bias };
      })();
      cache.set(m, p);
    }
    return p;
  };
  const read = async (key: string): Promise<Float32Array> => {
    const tensor = t.get(key);
    if (!tensor) throw new DetectorError('bad_model_file', `missing tensor ${key}`);
    return tensor.read();
  };
  return {
    shape(key) {
      const m = bnOf(key);
      if (m && key.endsWith('.bias')) return t.get(`${m}.bn.weight`)?.shape;
      return t.get(key)?.shape;
    },
    async readFloat32(key) {
      const m = bnOf(key);
      if (!m) return read(key);
      const { scale, bias } = await bnParams(m);
      if (key.endsWith('.bias')) return bias.slice();
      const w = await read(key);
      const per = w.length / scale.length;
      const out = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) out[i] = Math.fround(scale[Math.floor(i / per)] * w[i]);
      return out;
    },
  };
}

/** Names of the graph's outputs for one Detect level. */
export const levelOutputs = (i: number) => ({ box: `box${i}`, cls: `cls${i}`, coeffs: `mc${i}` });
export const PROTO_OUTPUT = 'proto';
export const INPUT_NAME = 'images';

/** Builds the network for one letterboxed input size [1, 3, h, w]. */
export function buildYoloGraph(arch: YoloArchitecture, weights: WeightSource, h: number, w: number): BuiltGraph {
  const g = new GraphBuilder({ name: `yolo-${arch.task}-${h}x${w}`, precision: 'fp32', weightShape: (k) => weights.shape(k) });
  const image = g.input(INPUT_NAME, 'float32', [1, 3, h, w]);
  const outs: Value[] = [];
  const at = (i: number): Value => (i === -1 ? image : outs[i]);
  for (const l of arch.layers) {
    const key = `model.${l.index}`;
    const x = at(l.from[0]);
    switch (l.module) {
      case 'Conv':
        outs.push(convBlock(g, x, key, convStride(l)));
        break;
      case 'C2f':
        outs.push(c2f(g, x, key, l.args[1] === true, weights));
        break;
      case 'SPPF':
        outs.push(sppf(g, x, key, typeof l.args[1] === 'number' ? l.args[1] : 5));
        break;
      case 'Upsample': {
        const s = upsampleScale(l);
        outs.push(resizeNearest(g, x, x.shape[2] * s, x.shape[3] * s));
        break;
      }
      case 'Concat':
        outs.push(concat(g, l.from.map(at), typeof l.args[0] === 'number' ? l.args[0] : 1));
        break;
      case 'Detect':
      case 'Segment':
        head(g, arch, l, key, l.from.map(at));
        outs.push(image); // the head is last; nothing reads its slot
        break;
    }
  }
  return g.build();
}

/** Ultralytics Conv after fusing: Conv2d(k, s, padding k//2, bias) → SiLU. */
function convBlock(g: GraphBuilder, x: Value, key: string, stride = 1): Value {
  return silu(g, conv2d(g, x, `${key}.conv`, { stride }));
}

function c2f(g: GraphBuilder, x: Value, key: string, shortcut: boolean, weights: WeightSource): Value {
  const y = convBlock(g, x, `${key}.cv1`);
  const c = y.shape[1] / 2;
  const parts = split(g, y, 1, [c, c]);
  let last = parts[1];
  for (let j = 0; weights.shape(`${key}.m.${j}.cv1.conv.weight`); j++) {
    const b = `${key}.m.${j}`;
    const h = convBlock(g, convBlock(g, last, `${b}.cv1`), `${b}.cv2`);
    last = shortcut && h.shape[1] === last.shape[1] ? g.op('Add', [last, h]) : h;
    parts.push(last);
  }
  return convBlock(g, concat(g, parts, 1), `${key}.cv2`);
}

function sppf(g: GraphBuilder, x: Value, key: string, k: number): Value {
  const y = convBlock(g, x, `${key}.cv1`);
  const pool = (v: Value) => g.op('MaxPool', [v], { kernel_shape: [k, k], strides: [1, 1], pads: [k >> 1, k >> 1, k >> 1, k >> 1] });
  const y1 = pool(y);
  const y2 = pool(y1);
  const y3 = pool(y2);
  return convBlock(g, concat(g, [y, y1, y2, y3], 1), `${key}.cv2`);
}

/** Conv → Conv → Conv2d 1x1: the box, class and mask-coefficient branches of Detect/Segment. */
function branch(g: GraphBuilder, x: Value, key: string): Value {
  return conv2d(g, convBlock(g, convBlock(g, x, `${key}.0`), `${key}.1`), `${key}.2`);
}

function head(g: GraphBuilder, arch: YoloArchitecture, l: YoloLayer, key: string, xs: Value[]): void {
  xs.forEach((x, i) => {
    const names = levelOutputs(i);
    g.output(branch(g, x, `${key}.cv2.${i}`), names.box);
    g.output(branch(g, x, `${key}.cv3.${i}`), names.cls);
    if (arch.task === 'segment') g.output(branch(g, x, `${key}.cv4.${i}`), names.coeffs);
  });
  if (arch.task === 'segment') {
    const p = `${key}.proto`;
    const up = g.weight(`${p}.upsample.weight`);
    let y = convBlock(g, xs[0], `${p}.cv1`);
    y = g.op('ConvTranspose', [y, up, g.weight(`${p}.upsample.bias`)], { kernel_shape: [up.shape[2], up.shape[3]], strides: [2, 2] });
    y = convBlock(g, convBlock(g, y, `${p}.cv2`), `${p}.cv3`);
    g.output(y, PROTO_OUTPUT);
  }
  void l;
}

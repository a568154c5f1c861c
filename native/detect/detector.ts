// A loaded YOLOv8 detector: the checkpoint's fused weights in memory, one ONNX session per
// letterboxed input size, and `detect()` = ADetailer's `YOLO(model_path)(image, conf=...)` call:
// letterbox → RGB /255 → network → decode → NMS → masks (segment models) → boxes in original pixels.
import type { Raster } from '../pipelines/image-ops.js';
import { ModelPart } from '../runtime/model-part.js';
import type { EngineRuntime } from '../runtime/ort-backend.js';
import type { WeightSource } from '../runtime/weights.js';
import { DetectorError } from './detector-error.js';
import { openDetectorFile, type DetectorTask } from './detector-file.js';
import { letterbox } from './letterbox.js';
import { decodeLevels, nonMaxSuppression, processMask, scaleBox, type LevelOutput } from './postprocess.js';
import { buildYoloGraph, fusedWeights, INPUT_NAME, levelOutputs, parseArchitecture, PROTO_OUTPUT, type YoloArchitecture } from './yolo-graph.js';

export interface DetectOptions {
  /** ADetailer's ad_confidence (default 0.3). */
  conf?: number;
  /** NMS IoU threshold (Ultralytics default 0.7). */
  iou?: number;
  /** Network size; default the checkpoint's train_args imgsz, else 640. */
  imgsz?: number | readonly [number, number];
  maxDet?: number;
  signal?: AbortSignal;
}

export interface Detection {
  /** x1, y1, x2, y2 in original image pixels (Results.boxes.xyxy). */
  readonly box: readonly [number, number, number, number];
  readonly conf: number;
  readonly cls: number;
  readonly name: string;
  /** Segment models: 0/1 mask at the letterboxed input size (Results.masks.data). */
  readonly mask?: Uint8Array;
}

export interface DetectionResult {
  readonly imageWh: readonly [number, number];
  /** Letterboxed network input [h, w]. */
  readonly inputHw: readonly [number, number];
  readonly task: DetectorTask;
  readonly detections: readonly Detection[];
}

/** Ultralytics check_imgsz: each side rounded up to a multiple of the stride. */
export function checkImgsz(imgsz: number | readonly [number, number], stride: number): [number, number] {
  const [h, w] = typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz;
  const up = (v: number) => Math.max(Math.ceil(v / stride) * stride, 0);
  return [up(h), up(w)];
}

export class Detector {
  private readonly part: ModelPart;

  private constructor(
    readonly path: string,
    readonly arch: YoloArchitecture,
    readonly names: ReadonlyMap<number, string>,
    readonly defaultImgsz: number | readonly [number, number],
    private readonly weights: WeightSource,
    runtime: EngineRuntime,
  ) {
    this.part = new ModelPart(`detector ${path}`, { runtime, source: weights, weightsVia: 'memory', maxSessions: 2 });
  }

  /** Loads a .pt or .safetensors YOLOv8 file; the file is closed again before this returns. */
  static async load(path: string, runtime: EngineRuntime): Promise<Detector> {
    const ck = await openDetectorFile(path);
    try {
      const arch = parseArchitecture(ck);
      const fused = fusedWeights(ck);
      // Read every tensor the graph may bind now, so the file need not stay open.
      const cache = new Map<string, Float32Array>();
      const shapes = new Map<string, readonly number[]>();
      for (const key of ck.tensors.keys()) {
        if (/\.bn\.|num_batches_tracked$/.test(key)) continue;
        const keys = key.endsWith('.conv.weight') && ck.tensors.has(key.replace(/conv\.weight$/, 'bn.weight')) ? [key, key.replace(/weight$/, 'bias')] : [key];
        for (const k of keys) {
          const shape = fused.shape(k);
          if (!shape) continue;
          shapes.set(k, shape);
          cache.set(k, await fused.readFloat32(k));
        }
      }
      const source: WeightSource = {
        shape: (k) => shapes.get(k),
        readFloat32: async (k) => {
          const v = cache.get(k);
          if (!v) throw new DetectorError('bad_model_file', `${path}: missing tensor ${k}`);
          return v;
        },
      };
      return new Detector(path, arch, ck.names, ck.imgsz ?? 640, source, runtime);
    } finally {
      await ck.close();
    }
  }

  get task(): DetectorTask {
    return this.arch.task;
  }

  /** Runs ADetailer's Ultralytics call on one RGB image. */
  async detect(image: Raster, opts: DetectOptions = {}): Promise<DetectionResult> {
    if (image.channels !== 3) throw new DetectorError('bad_input', 'detect needs an RGB image');
    const stride = Math.max(32, ...this.arch.strides);
    const shape = checkImgsz(opts.imgsz ?? this.defaultImgsz, stride);
    const lb = letterbox(image, shape, stride);
    const ih = lb.image.height, iw = lb.image.width;
    const input = new Float32Array(3 * ih * iw);
    const plane = ih * iw;
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) input[c * plane + p] = Math.fround(lb.image.data[p * 3 + c] / 255);
    opts.signal?.throwIfAborted();
    const out = await this.part.run(`${ih}x${iw}`, () => buildYoloGraph(this.arch, this.weights, ih, iw), {
      [INPUT_NAME]: { dtype: 'float32', data: input, dims: [1, 3, ih, iw] },
    });
    const { nc, regMax, nm } = this.arch;
    const levels: LevelOutput[] = this.arch.strides.map((s, i) => {
      const names = levelOutputs(i);
      return { box: out[names.box], cls: out[names.cls], coeffs: nm ? out[names.coeffs] : undefined, h: Math.round(ih / s), w: Math.round(iw / s), stride: s };
    });
    const decoded = decodeLevels(levels, nc, regMax, nm);
    const rows = nonMaxSuppression(decoded, { conf: opts.conf ?? 0.3, iou: opts.iou ?? 0.7, maxDet: opts.maxDet ?? 300 });
    const detections: Detection[] = [];
    const proto = out[PROTO_OUTPUT];
    for (const r of rows) {
      let mask: Uint8Array | undefined;
      if (nm && proto && decoded.coeffs) {
        mask = processMask(proto, nm, ih / 4, iw / 4, decoded.coeffs.subarray(r.anchor * nm, (r.anchor + 1) * nm), r.box, ih, iw);
        // Ultralytics ≥ 8.3.84 drops detections whose mask is empty
        if (!mask.some((v) => v !== 0)) continue;
      }
      const box = scaleBox(r.box, [ih, iw], [image.width, image.height]);
      detections.push({ box, conf: r.conf, cls: r.cls, name: this.names.get(r.cls) ?? String(r.cls), mask });
    }
    return { imageWh: [image.width, image.height], inputHw: [ih, iw], task: this.arch.task, detections };
  }

  dispose(): Promise<void> {
    return this.part.dispose();
  }
}

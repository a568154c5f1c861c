// A loaded upscaler: its detected network, and one ONNX session per input shape (a tiled upscale
// uses a single shape). `forward` is spandrel's ImageModelDescriptor.__call__ without the clamp:
// the input is padded on the right and bottom to the size requirements (reflect, then replicate),
// run, and the output cropped back to size × scale.
import { basename } from 'node:path';
import { createEngineRuntime, type Device, type EngineRuntime } from '../runtime/ort-backend.js';
import { ModelPart } from '../runtime/model-part.js';
import type { WeightSource } from '../runtime/weights.js';
import { EngineError } from '../runtime/engine-error.js';
import { detectUpscaler, type UpscalerSpec } from './architectures.js';
import { buildUpscalerGraph } from './graphs.js';
import { readUpscalerStateDict } from './state-dict.js';
import { UpscaleError } from './upscale-error.js';

export interface LoadUpscalerOptions {
  /** Where the sessions run (default CPU). Ignored when `runtime` is given. */
  device?: Device;
  /** An existing runtime to share (the engine worker's). */
  runtime?: EngineRuntime;
  /** CPU threads per session when this call creates the runtime. */
  intraOpThreads?: number;
}

export interface UpscalerModel {
  /** File name without folder, e.g. `RealESRGAN_x4plus.pth` (A1111 names the upscaler after it). */
  readonly name: string;
  readonly path: string;
  readonly arch: UpscalerSpec['arch'];
  /** Output pixels per input pixel. */
  readonly scale: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly spec: UpscalerSpec;
  /**
   * One model call on a [C, height, width] float32 image (channel order as the model expects; A1111
   * feeds BGR). Returns the raw [C', height·scale, width·scale] output, before any clamp.
   */
  forward(input: Float32Array, width: number, height: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * The source of padded position `i` in a row of n (spandrel pads right/bottom): `reflect` (mirror
 * without repeating the edge: n, n+1, … take n−2, n−3, …) for up to n − 1 pixels, then `replicate`
 * of the last reflected pixel, which is pixel 0.
 */
function sourceIndex(i: number, n: number): number {
  if (i < n) return i;
  return i - n < n - 1 ? 2 * (n - 1) - i : 0;
}

function padTarget(n: number, min: number, multiple: number): number {
  const t = Math.max(min, n);
  return Math.ceil(t / multiple) * multiple;
}

function padImage(src: Float32Array, c: number, w: number, h: number, pw: number, ph: number): Float32Array {
  const out = new Float32Array(c * pw * ph);
  const xs = Int32Array.from({ length: pw }, (_, i) => sourceIndex(i, w));
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < ph; y++) {
      const sy = sourceIndex(y, h);
      const srow = (ch * h + sy) * w;
      const drow = (ch * ph + y) * pw;
      for (let x = 0; x < pw; x++) out[drow + x] = src[srow + xs[x]!]!;
    }
  }
  return out;
}

function cropImage(src: Float32Array, c: number, w: number, h: number, cw: number, ch: number): Float32Array {
  if (cw === w && ch === h) return src;
  const out = new Float32Array(c * cw * ch);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < ch; y++) out.set(src.subarray((k * h + y) * w, (k * h + y) * w + cw), (k * ch + y) * cw);
  }
  return out;
}

function stateSource(spec: UpscalerSpec): WeightSource {
  return {
    shape: (key) => spec.tensors.get(key)?.shape,
    readFloat32: async (key) => {
      const t = spec.tensors.get(key);
      if (!t) throw new EngineError('weight_missing', `upscaler has no tensor ${key}`);
      return t.read();
    },
  };
}

/**
 * Reads, detects and prepares an upscaler file; sessions are created on the first call per shape.
 * Errors: `upscaler_not_found`, `bad_upscaler_file`, `unsupported_upscaler` (UpscaleError).
 *
 * @example const m = await loadUpscaler('models/upscalers/RealESRGAN_x4plus.pth', { device: 'cpu' });
 */
export async function loadUpscaler(path: string, opts: LoadUpscalerOptions = {}): Promise<UpscalerModel> {
  const sd = await readUpscalerStateDict(path);
  let spec: UpscalerSpec;
  try {
    spec = detectUpscaler(sd, basename(path));
  } catch (err) {
    await sd.close();
    throw err;
  }
  const runtime = opts.runtime ?? (await createEngineRuntime({ device: opts.device ?? 'cpu', precision: 'fp32', ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}) }));
  // Weights are small (≤ 70 MB for the largest RRDBNet): hand them over from memory.
  const part = new ModelPart(`upscaler ${basename(path)}`, { runtime, source: stateSource(spec), maxSessions: 2, weightsVia: 'memory' });
  let disposed = false;
  return {
    name: basename(path),
    path,
    arch: spec.arch,
    scale: spec.scale,
    inChannels: spec.inChannels,
    outChannels: spec.outChannels,
    spec,
    async forward(input, width, height) {
      if (disposed) throw new UpscaleError('invalid_params', `upscaler ${basename(path)} was disposed`);
      if (input.length !== spec.inChannels * width * height) {
        throw new UpscaleError('invalid_params', `upscaler input has ${input.length} values, expected ${spec.inChannels}×${height}×${width}`);
      }
      const pw = padTarget(width, spec.size.minimum, spec.size.multipleOf);
      const ph = padTarget(height, spec.size.minimum, spec.size.multipleOf);
      const x = pw === width && ph === height ? input : padImage(input, spec.inChannels, width, height, pw, ph);
      const out = await part.run(`${ph}x${pw}`, () => buildUpscalerGraph(spec, ph, pw), {
        x: { dtype: 'float32', data: x, dims: [1, spec.inChannels, ph, pw] },
      });
      return cropImage(out.y!, spec.outChannels, pw * spec.scale, ph * spec.scale, width * spec.scale, height * spec.scale);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await part.dispose();
      await sd.close();
    },
  };
}

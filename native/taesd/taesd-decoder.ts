// A loaded TAESD / TAESDXL decoder: one ONNX session per latent size (a job's previews share one),
// weights handed over from memory. `decodeToRaster` is A1111's TAESD live preview: the decoder's
// [0, 1] output, clamped, ×255, truncated to 8 bits (single_sample_to_image).
import { createEngineRuntime, type Device, type EngineRuntime } from '../runtime/ort-backend.js';
import { ModelPart } from '../runtime/model-part.js';
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import { buildTaesdDecoderGraph } from './taesd-graph.js';
import { readTaesdFile, type TaesdFamily, type TaesdLayout } from './taesd-file.js';
import { TaesdError } from './taesd-error.js';

export interface TaesdDecoder {
  readonly path: string;
  readonly family: TaesdFamily;
  readonly layout: TaesdLayout;
  /** Decodes one latent [4, h, w] (UNet scale) to [3, 8h, 8w], about [0, 1], unclamped. */
  decode(latent: Float32Array, h: number, w: number): Promise<Float32Array>;
  /** The same as an 8-bit RGB raster of 8w × 8h. */
  decodeToRaster(latent: Float32Array, h: number, w: number): Promise<Raster>;
  dispose(): Promise<void>;
}

export interface LoadTaesdOptions {
  device?: Device;
  /** An existing runtime to share. */
  runtime?: EngineRuntime;
  intraOpThreads?: number;
}

/** Planar [3, H, W] in [0, 1] → interleaved 8-bit RGB, clamped and truncated as A1111 does. */
export function unitPlanarToRaster(img: Float32Array, width: number, height: number): Raster {
  const out = makeRaster(width, height, 3);
  const plane = width * height;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      const v = img[c * plane + p]!;
      out.data[p * 3 + c] = v >= 1 ? 255 : v > 0 ? Math.floor(v * 255) : 0;
    }
  }
  return out;
}

/**
 * Opens a TAESD decoder file (either layout); the session is made on the first decode of a size.
 *
 * @example const d = await loadTaesdDecoder('models/vae-approx/taesd.safetensors'); const rgb = await d.decodeToRaster(z, 64, 64);
 */
export async function loadTaesdDecoder(path: string, opts: LoadTaesdOptions = {}): Promise<TaesdDecoder> {
  const file = await readTaesdFile(path);
  const runtime = opts.runtime ?? (await createEngineRuntime({ device: opts.device ?? 'cpu', precision: 'fp32', ...(opts.intraOpThreads ? { intraOpThreads: opts.intraOpThreads } : {}) }));
  const part = new ModelPart(`taesd ${file.family}`, { runtime, source: file.source, maxSessions: 2, weightsVia: 'memory' });
  let disposed = false;
  const decode = async (latent: Float32Array, h: number, w: number): Promise<Float32Array> => {
    if (disposed) throw new TaesdError('invalid_params', `TAESD decoder ${path} was disposed`);
    if (latent.length !== file.latentChannels * h * w) {
      throw new TaesdError('invalid_params', `TAESD input has ${latent.length} values, expected ${file.latentChannels}×${h}×${w}`);
    }
    const out = await part.run(`${h}x${w}`, () => buildTaesdDecoderGraph({ channels: file.channels, latentChannels: file.latentChannels, h, w }), {
      latent: { dtype: 'float32', data: latent, dims: [1, file.latentChannels, h, w] },
    });
    return out.image!;
  };
  return {
    path,
    family: file.family,
    layout: file.layout,
    decode,
    async decodeToRaster(latent, h, w) {
      return unitPlanarToRaster(await decode(latent, h, w), w * 8, h * 8);
    },
    async dispose() {
      disposed = true;
      await part.dispose();
    },
  };
}

// What the engine worker runs for an `upscale` job: decodes the source image, resolves the upscaler
// by name (Lanczos / Nearest / None, or a file in $MODELS_DIR/upscalers by stem or file name), keeps
// the last model loaded, and runs A1111's Extras upscale: "Scale by" (Upscaler.upscale) or "Scale
// to" (scale = max(W'/W, H'/H), then the centred crop to W'×H' that Extras does by default).
// Progress is reported per tile; cancelling stops between tiles.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeImage, encodePng } from '../pipelines/resize.js';
import { makeRaster, paste, type Raster } from '../pipelines/image-ops.js';
import type { Device, EngineRuntime } from '../runtime/ort-backend.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { WorkerError, type RunHooks, type RunOutput } from '../worker-protocol.js';
import { isBuiltinUpscaler, resolveUpscalerFile } from './folder.js';
import { loadUpscaler, type UpscalerModel } from './model.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, upscaleRaster, type BuiltinUpscaler } from './upscale.js';
import { UpscaleError } from './upscale-error.js';

export interface UpscaleServiceOptions {
  modelsDir: string;
  device: Device;
  /** Server-wide defaults for requests that do not say (A1111's ESRGAN_tile / ESRGAN_tile_overlap). */
  tile?: number;
  overlap?: number;
}

/** The parameters of an `upscale` job as the server hands them to the worker. */
export interface UpscaleJobParams {
  image: Uint8Array;
  upscaler: string;
  scale?: number;
  width?: number;
  height?: number;
  tile?: number;
  overlap?: number;
}

// Upscaler codes the wire lists as they are; a damaged file is the generic bad_model_file.
const WIRE_CODES: Record<string, string> = { bad_upscaler_file: 'bad_model_file' };

function toWorkerError(err: unknown): unknown {
  if (err instanceof UpscaleError) return new WorkerError(WIRE_CODES[err.code] ?? err.code, err.message);
  return err;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function parseUpscaleParams(p: Record<string, unknown>): UpscaleJobParams {
  if (!(p.image instanceof Uint8Array)) throw new UpscaleError('invalid_params', 'upscale needs the source image bytes');
  if (typeof p.upscaler !== 'string' || !p.upscaler) throw new UpscaleError('invalid_params', 'upscale needs an upscaler name');
  const out: UpscaleJobParams = { image: p.image, upscaler: p.upscaler };
  for (const k of ['scale', 'width', 'height', 'tile', 'overlap'] as const) {
    const v = num(p[k]);
    if (v !== undefined) out[k] = v;
  }
  if ((out.width === undefined) !== (out.height === undefined)) throw new UpscaleError('invalid_params', 'give both width and height, or a scale');
  if (out.width === undefined && out.scale === undefined) throw new UpscaleError('invalid_params', 'give a scale or width and height');
  return out;
}

/** Extras "Scale to" with "Crop to fit": the upscaled image pasted centred on a black W×H canvas. */
function cropToFit(img: Raster, width: number, height: number): Raster {
  if (img.width === width && img.height === height) return img;
  const out = makeRaster(width, height, 3);
  // Python's // floors: width // 2 - image.width // 2.
  paste(out, img, Math.floor(width / 2) - Math.floor(img.width / 2), Math.floor(height / 2) - Math.floor(img.height / 2));
  return out;
}

export class UpscaleService {
  private runtime: Promise<EngineRuntime> | undefined;
  private loaded: { path: string; mtimeMs: number; model: UpscalerModel } | undefined;

  constructor(private readonly opts: UpscaleServiceOptions) {}

  private upscalersDir(): string {
    return resolve(this.opts.modelsDir, 'upscalers');
  }

  private async modelFor(name: string): Promise<UpscalerModel> {
    const file = await resolveUpscalerFile(this.upscalersDir(), name);
    const { mtimeMs } = await stat(file.path);
    if (this.loaded && this.loaded.path === file.path && this.loaded.mtimeMs === mtimeMs) return this.loaded.model;
    const previous = this.loaded;
    this.loaded = undefined;
    await previous?.model.dispose();
    this.runtime ??= createEngineRuntime({ device: this.opts.device, precision: 'fp32' });
    const model = await loadUpscaler(file.path, { runtime: await this.runtime });
    this.loaded = { path: file.path, mtimeMs, model };
    return model;
  }

  /** Runs one job; errors carry wire codes (WorkerError). */
  async run(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
    try {
      return await this.runUnsafe(parseUpscaleParams(params), hooks);
    } catch (err) {
      if (hooks.signal.aborted) throw new WorkerError('cancelled', 'cancelled');
      throw toWorkerError(err);
    }
  }

  private async runUnsafe(p: UpscaleJobParams, hooks: RunHooks): Promise<RunOutput> {
    let source: Raster;
    try {
      source = await decodeImage(p.image);
    } catch (err) {
      throw new UpscaleError('invalid_params', `the source image cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
    }
    hooks.signal.throwIfAborted();
    const builtin = isBuiltinUpscaler(p.upscaler);
    const upscaler: UpscalerModel | BuiltinUpscaler = builtin ? (p.upscaler as BuiltinUpscaler) : await this.modelFor(p.upscaler);
    const name = builtin ? p.upscaler : (await resolveUpscalerFile(this.upscalersDir(), p.upscaler)).name;
    const scale = p.width !== undefined && p.height !== undefined ? Math.max(p.width / source.width, p.height / source.height) : p.scale!;
    let out = await upscaleRaster(source, upscaler, { scale }, {
      tile: p.tile ?? this.opts.tile ?? DEFAULT_TILE,
      overlap: p.overlap ?? this.opts.overlap ?? DEFAULT_OVERLAP,
      signal: hooks.signal,
      onProgress: (done, total) => hooks.onProgress(done, total),
    });
    if (p.width !== undefined && p.height !== undefined) out = cropToFit(out, p.width, p.height);
    const png = await encodePng(out);
    return {
      images: [{ png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width: out.width, height: out.height, seed: -1 }],
      info: {
        upscaler: name,
        ...(p.width !== undefined ? { upscale_to: [p.width, p.height] } : { upscale_by: p.scale }),
      },
    };
  }

  async dispose(): Promise<void> {
    await this.loaded?.model.dispose();
    this.loaded = undefined;
  }
}

// The image upscalers of the hires fix: A1111 images.resize_image(0, image, w, h, upscaler_name)
// over the upscaler models in $MODELS_DIR/upscalers and the built-in None / Lanczos / Nearest
// (native/upscale). The last model used stays loaded for the next request.
import { existsSync, readdirSync } from 'node:fs';
import { extname, join, parse } from 'node:path';
import { isBuiltinUpscaler, loadUpscaler, upscaleRaster, type UpscalerModel } from '../upscale/index.js';
import { UPSCALER_EXTENSIONS } from '../upscale/state-dict.js';
import type { Device } from '../runtime/ort-backend.js';
import { PipelineError } from './pipeline-error.js';
import type { ImageUpscale } from './types.js';

export interface HiresUpscalerOptions {
  /** Folder of upscaler model files (A1111's models/ESRGAN). */
  upscalersDir: string;
  device?: Device;
}

/** The file of an upscaler name (file stem, as A1111 lists it, or file name) in `dir`. */
export function findUpscalerFile(dir: string, name: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => (UPSCALER_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
    .sort();
  const hit = files.find((f) => f === name) ?? files.find((f) => parse(f).name === name);
  return hit === undefined ? undefined : join(dir, hit);
}

/** What a generation needs for image upscalers; `dispose()` releases the loaded model. */
export interface HiresUpscalers {
  hasUpscaler: (name: string) => boolean;
  upscaleImage: ImageUpscale;
  dispose(): Promise<void>;
}

/**
 * @example const ups = hiresUpscalers({ upscalersDir: 'models/upscalers' });
 *          await generate(engine, req, hooks, { ...ups }); await ups.dispose();
 */
export function hiresUpscalers(opts: HiresUpscalerOptions): HiresUpscalers {
  let loaded: { path: string; model: Promise<UpscalerModel> } | undefined;
  const modelFor = (path: string): Promise<UpscalerModel> => {
    if (loaded?.path === path) return loaded.model;
    const previous = loaded;
    const model = (async () => {
      if (previous) await (await previous.model.catch(() => undefined))?.dispose();
      return loadUpscaler(path, { device: opts.device });
    })();
    loaded = { path, model };
    // A file that failed to load is tried again next time.
    model.catch(() => {
      if (loaded?.model === model) loaded = undefined;
    });
    return model;
  };
  return {
    hasUpscaler: (name) => findUpscalerFile(opts.upscalersDir, name) !== undefined,
    upscaleImage: async (image, name, width, height, signal) => {
      if (isBuiltinUpscaler(name)) return upscaleRaster(image, name, { width, height }, { signal });
      const path = findUpscalerFile(opts.upscalersDir, name);
      if (!path) throw new PipelineError('upscaler_not_found', `could not find upscaler named "${name}" in ${opts.upscalersDir}`);
      return upscaleRaster(image, await modelFor(path), { width, height }, { signal });
    },
    async dispose() {
      const m = loaded;
      loaded = undefined;
      await (await m?.model.catch(() => undefined))?.dispose();
    },
  };
}

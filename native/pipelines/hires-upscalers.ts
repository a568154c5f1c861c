// The image upscalers of the hires fix: A1111 images.resize_image(0, image, w, h, upscaler_name)
// over the upscaler models in $MODELS_DIR/upscalers (native/upscale) and the built-in None /
// Lanczos / Nearest.
import { existsSync, readdirSync } from 'node:fs';
import { extname, parse } from 'node:path';
import { PipelineError } from './pipeline-error.js';
import type { GenerateResources } from './types.js';

const MODEL_EXTENSIONS = ['.pth', '.pt', '.safetensors'];

export interface HiresUpscalerOptions {
  upscalersDir: string;
  device?: 'cpu' | 'cuda';
}

/** Whether `dir` holds an upscaler file whose stem (or name) is `name`. */
export function hasUpscalerFile(dir: string, name: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => MODEL_EXTENSIONS.includes(extname(f).toLowerCase()) && (f === name || parse(f).name === name));
}

/** The `upscaleImage` / `hasUpscaler` resources of a generation. */
export function hiresUpscalers(opts: HiresUpscalerOptions): Pick<GenerateResources, 'upscaleImage' | 'hasUpscaler'> {
  return {
    hasUpscaler: (name) => hasUpscalerFile(opts.upscalersDir, name),
    upscaleImage: async (_image, name) => {
      throw new PipelineError('unsupported', `hires fix with the image upscaler "${name}" is not available in this build yet`);
    },
  };
}

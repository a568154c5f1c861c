// The upscaler API the rest of Easel uses (hires fix, the `upscale` job, the CLI):
//   const model = await loadUpscaler(path, { device: 'cpu' });
//   const out = await upscaleRaster(image, model, { scale: 4 }, { tile: 192, overlap: 8 });
//   await model.dispose();
export { loadUpscaler, type LoadUpscalerOptions, type UpscalerModel } from './model.js';
export {
  upscaleRaster,
  BUILTIN_UPSCALERS,
  DEFAULT_OVERLAP,
  DEFAULT_TILE,
  MAX_OUTPUT_SIDE,
  type BuiltinUpscaler,
  type UpscaleOptions,
  type UpscaleTarget,
} from './upscale.js';
export { upscaleWithModel, splitGrid, type GridLayout } from './tiling.js';
export { listUpscalerFiles, resolveUpscalerFile, isBuiltinUpscaler, type UpscalerFile } from './folder.js';
export { UpscaleError, type UpscaleErrorCode } from './upscale-error.js';
export type { UpscalerSpec } from './architectures.js';
export { pillowResize, type PillowFilter } from '../image/pillow-resample.js';

// Where a unit's input comes from in img2img / inpaint requests, as sd-webui-controlnet v1.1.455
// decides it (scripts/controlnet.py choose_input_image, prepare_mask, try_crop_image_with_a1111_mask):
//  - a unit without its own image takes A1111's init image, with the img2img resize mode (not the
//    unit's) for everything after; only inpaint modules also take A1111's mask, "prepared" as the
//    extension does (luminance, inverted when the request inverts, the request's mask blur) — other
//    modules never see it (they would otherwise read a grey mask as a canvas scribble);
//  - with "only masked" inpainting (inpaint_full_res) each channel of the input is resized to the
//    original's size with that resize mode, cropped to A1111's crop region and resized to the
//    processing size with "Resize and Fill" (the extension's inpaint_crop_input_image, default on).
import { blurMask, crop, cropRegion, expandCropRegion, invertMask, luminanceMask, makeRaster, type Raster } from '../pipelines/image-ops.js';
import { resizeRaster, type ResizeMode } from '../pipelines/resize.js';
import type { GenerateRequest } from '../pipelines/types.js';
import type { ResizeModeName } from './preprocess/preprocess-control-image.js';

const MODE_NAMES: readonly ResizeModeName[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];

export type A1111InputRequest = Pick<
  GenerateRequest,
  'task' | 'width' | 'height' | 'resize_mode' | 'mask_blur' | 'inpainting_mask_invert' | 'inpaint_full_res' | 'inpaint_full_res_padding'
>;

/** The extension's prepare_mask: L, inverted when asked, then A1111's mask blur (σ = mask_blur on both axes). */
export function prepareA1111Mask(mask: Raster, req: A1111InputRequest): Raster {
  let m = luminanceMask(mask);
  if (req.inpainting_mask_invert) m = invertMask(m);
  const blur = req.mask_blur ?? 4;
  return blur > 0 ? blurMask(m, blur, blur) : m;
}

/** The img2img resize mode as the extension's ResizeMode (its resize_mode_from_value). */
export function a1111ResizeMode(req: A1111InputRequest): ResizeModeName {
  return MODE_NAMES[req.resize_mode ?? 0]!;
}

function splitChannels(r: Raster): Raster[] {
  const n = r.width * r.height;
  return Array.from({ length: r.channels }, (_, c) => {
    const out = makeRaster(r.width, r.height, 1);
    for (let i = 0; i < n; i++) out.data[i] = r.data[i * r.channels + c]!;
    return out;
  });
}

function mergeChannels(planes: readonly Raster[], channels: 1 | 3 | 4): Raster {
  const { width, height } = planes[0]!;
  const out = makeRaster(width, height, channels);
  const n = width * height;
  planes.forEach((p, c) => {
    for (let i = 0; i < n; i++) out.data[i * channels + c] = p.data[i]!;
  });
  return out;
}

/**
 * "Only masked" inpainting: the unit's image (and mask) cut to the part A1111 regenerates. The region
 * comes from the prepared A1111 mask exactly as A1111's own crop (get_crop_region + expand_crop_region);
 * each channel is resized on its own, as the extension does with PIL "L" images.
 * Returns the rasters unchanged when the request does not inpaint "only masked" or the mask is empty.
 */
export async function cropToA1111Mask(
  rasters: readonly Raster[],
  resizeMode: ResizeModeName,
  a1111Mask: Raster | undefined,
  req: A1111InputRequest,
): Promise<Raster[]> {
  if (req.task !== 'inpaint' || !req.inpaint_full_res || !a1111Mask) return [...rasters];
  const mask = prepareA1111Mask(a1111Mask, req);
  const region = cropRegion(mask, req.inpaint_full_res_padding ?? 32);
  if (!region) return [...rasters];
  const expanded = expandCropRegion(region, req.width, req.height, mask.width, mask.height);
  const mode = MODE_NAMES.indexOf(resizeMode) as ResizeMode;
  return Promise.all(
    rasters.map(async (r) => {
      const planes = await Promise.all(
        splitChannels(r).map(async (p) => {
          const full = await resizeRaster(p, mask.width, mask.height, mode);
          return resizeRaster(crop(full, expanded), req.width, req.height, 2);
        }),
      );
      return mergeChannels(planes, r.channels);
    }),
  );
}

// The img2img / inpaint preparation of A1111's StableDiffusionProcessingImg2Img.init, in pixels:
// mask binarisation, inversion and blur, the "only masked" crop with padding, the init image
// resized to the processing size, masked-content fill, and the overlay that later restores the
// untouched pixels. The latent side (encode, latent masks) lives in generate.ts.
import {
  blurMask,
  crop,
  cropRegion,
  expandCropRegion,
  fillMasked,
  invertMask,
  makeOverlay,
  makeRaster,
  toBinaryMask,
  type CropRegion,
  type Raster,
} from './image-ops.js';
import { PipelineError } from './pipeline-error.js';
import { blurPremultipliedRgba, decodeImage, resizeRaster, type ResizeMode } from './resize.js';
import type { GenerateRequest } from './types.js';

export interface PreparedInit {
  /** The image the VAE encodes, width×height RGB. */
  image: Raster;
  /** The processed mask at width×height (255 = repaint), or null for plain img2img. */
  mask: Raster | null;
  /** RGBA overlay at the output size: the original where it must survive. */
  overlay: Raster | null;
  /** Where the generated crop goes back ("only masked"), in original image pixels. */
  pasteTo: CropRegion | null;
  /** Size of the final image (the original's for "only masked", else width×height). */
  outWidth: number;
  outHeight: number;
  /** A1111 extra_generation_params this preparation adds, in its order. */
  extra: [string, string | number][];
}

/**
 * Decodes and prepares the init image (and mask) of an img2img or inpaint request.
 *
 * @example const init = await prepareInit({ ...req, task: 'inpaint', image, mask, inpaint_full_res: true })
 */
export async function prepareInit(req: GenerateRequest): Promise<PreparedInit> {
  if (!req.image) throw new PipelineError('bad_input', `task ${req.task} needs an init image`);
  const { width, height } = req;
  const resizeMode: ResizeMode = req.resize_mode ?? 0;
  const original = await decodeImage(req.image);
  const extra: [string, string | number][] = [];

  if (req.task !== 'inpaint' || !req.mask) {
    const image = await resizeRaster(original, width, height, resizeMode);
    return { image, mask: null, overlay: null, pasteTo: null, outWidth: width, outHeight: height, extra };
  }

  const rawMask = await decodeImage(req.mask, true);
  let mask = toBinaryMask(rawMask, true);
  if (mask.width !== original.width || mask.height !== original.height) {
    // Editors may export the mask at another resolution; A1111 expects the image's own size.
    mask = toBinaryMask(await resizeRaster(mask, original.width, original.height, 0), true);
  }
  if (req.inpainting_mask_invert) {
    mask = invertMask(mask);
    extra.push(['Mask mode', 'Inpaint not masked']);
  }
  const blur = req.mask_blur ?? 4;
  if (blur > 0) {
    mask = blurMask(mask, blur, blur);
    extra.push(['Mask blur', blur]);
  }

  let imageMask: Raster; // processing-size mask that drives fill and the latent mask
  let maskForOverlay: Raster; // original-size mask that decides which pixels are kept
  let pasteTo: CropRegion | null = null;
  let work: Raster; // the image before fill, processing size
  let outWidth = width, outHeight = height;
  let overlayBase = original;

  if (req.inpaint_full_res) {
    const padding = req.inpaint_full_res_padding ?? 32;
    const region = cropRegion(mask, padding);
    if (!region) throw new PipelineError('bad_input', 'the mask is empty: paint the area to inpaint (white = repaint)');
    const expanded = expandCropRegion(region, width, height, mask.width, mask.height);
    maskForOverlay = mask;
    imageMask = await resizeRaster(crop(mask, expanded), width, height, 2);
    work = await resizeRaster(crop(original, expanded), width, height, 2);
    pasteTo = expanded;
    outWidth = original.width;
    outHeight = original.height;
    extra.push(['Inpaint area', 'Only masked'], ['Masked area padding', padding]);
  } else {
    imageMask = await resizeRaster(mask, width, height, resizeMode);
    // A1111 doubles the mask for the overlay so the blurred edge leans towards the new content.
    maskForOverlay = makeRaster(width, height, 1);
    for (let i = 0; i < imageMask.data.length; i++) maskForOverlay.data[i] = Math.min(255, imageMask.data[i]! * 2);
    work = await resizeRaster(original, width, height, resizeMode);
    overlayBase = work;
  }

  const overlay = makeOverlay(overlayBase, maskForOverlay);
  const fillMode = req.inpainting_fill ?? 'original';
  let image = work;
  if (fillMode !== 'original') {
    image = await fillMasked(work, imageMask, blurPremultipliedRgba);
    if (fillMode === 'fill') extra.push(['Masked content', 'fill']);
  }
  if (fillMode === 'latent_noise') extra.push(['Masked content', 'latent noise']);
  if (fillMode === 'latent_nothing') extra.push(['Masked content', 'latent nothing']);
  return { image, mask: imageMask, overlay, pasteTo, outWidth, outHeight, extra };
}

// ADetailer on an img2img *inpaint* request (scripts/!adetailer.py, v25.3.0): the request's own mask
// as ADetailer reads it (`get_image_mask`: p.image_mask converted to "L" — luminance, alpha ignored —
// inverted for "Inpaint not masked", resized to p.width×p.height with the request's resize mode),
// and `inpaint_mask_filter`: with "Whole picture" (not only masked) only detections whose mask
// shares a non-black pixel with it are inpainted. An all-black request mask disables ADetailer.
import { invertMask, toBinaryMask, type Raster } from '../pipelines/image-ops.js';
import { decodeImage, resizeRaster } from '../pipelines/resize.js';
import type { GenerateRequest } from '../pipelines/types.js';

/** The request fields `get_image_mask` reads. */
export type InpaintRequest = Partial<Pick<GenerateRequest, 'task' | 'mask' | 'inpainting_mask_invert' | 'inpaint_full_res' | 'resize_mode' | 'width' | 'height'>>;

/** ADetailer's `get_image_mask(p)`, or null when the request is not an inpaint request. */
export async function requestImageMask(req: InpaintRequest): Promise<Raster | null> {
  if (req.task !== 'inpaint' || !req.mask || !req.width || !req.height) return null;
  const decoded = await decodeImage(req.mask, true);
  // PIL convert("L") of RGBA uses the colour channels only.
  const rgb = decoded.channels === 4 ? dropAlpha(decoded) : decoded;
  let mask = toBinaryMask(rgb, false);
  if (req.inpainting_mask_invert) mask = invertMask(mask);
  return resizeRaster(mask, req.width, req.height, req.resize_mode ?? 0);
}

function dropAlpha(r: Raster): Raster {
  const n = r.width * r.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) data.set(r.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { width: r.width, height: r.height, channels: 3, data };
}

/** mask.is_all_black */
export function isAllBlack(mask: Raster): boolean {
  return mask.data.every((v) => v === 0);
}

/** mask.has_intersection: cv2.bitwise_and of the two "L" masks has a non-zero pixel. */
export function hasIntersection(a: Raster, b: Raster): boolean {
  for (let i = 0; i < a.data.length; i++) if ((a.data[i]! & b.data[i]!) !== 0) return true;
  return false;
}

/**
 * AfterDetailerScript.inpaint_mask_filter: the ADetailer masks that touch the request's mask (which
 * is resized to theirs with LANCZOS when the sizes differ).
 */
export async function inpaintMaskFilter(requestMask: Raster, masks: readonly Raster[]): Promise<Raster[]> {
  if (masks.length === 0) return [];
  const m = masks[0]!;
  const ref = requestMask.width === m.width && requestMask.height === m.height ? requestMask : await resizeRaster(requestMask, m.width, m.height, 0);
  return masks.filter((mask) => hasIntersection(ref, mask));
}

// Live previews: A1111's "Approx cheap" latent-to-RGB projection (sd_vae_approx.cheap_approximation),
// a 4×3 linear map per latent pixel, so a preview costs microseconds instead of a VAE decode. SD1.x
// and SDXL latents live in different spaces, so each family has its own matrix (A1111 picks the
// SDXL one when `sd_model.is_sdxl`). The sharper TAESD preview and the choice between methods are
// in live-preview.ts.
import { makeRaster, type Raster } from './image-ops.js';
import { encodeJpeg } from './resize.js';

type Coefficients = readonly (readonly [number, number, number])[];

/** Rows: latent channels 0..3; columns: R, G, B. SD1.x/SD2.x latent space. */
export const SD1_LATENT_RGB: Coefficients = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** The same for SDXL's latent space (A1111 cheap_approximation, is_sdxl branch). */
export const SDXL_LATENT_RGB: Coefficients = [
  [0.3448, 0.4168, 0.4395],
  [-0.1953, -0.029, 0.025],
  [0.1074, 0.0886, -0.0163],
  [-0.373, -0.2499, -0.2088],
];

export type PreviewFamily = 'sd1' | 'sdxl';

export function latentRgbCoefficients(family: PreviewFamily): Coefficients {
  return family === 'sdxl' ? SDXL_LATENT_RGB : SD1_LATENT_RGB;
}

/** One image of a latent batch ([B,4,h,w], image `index`) projected to RGB at latent resolution. */
export function latentToRgb(latent: Float32Array, dims: { batch: number; h: number; w: number }, index = 0, family: PreviewFamily = 'sd1'): Raster {
  const { h, w } = dims;
  const plane = h * w;
  const base = index * 4 * plane;
  const coef = latentRgbCoefficients(family);
  const out = makeRaster(w, h, 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let l = 0; l < 4; l++) v += latent[base + l * plane + p]! * coef[l]![c]!;
      const unit = Math.min(1, Math.max(0, (v + 1) / 2));
      out.data[p * 3 + c] = Math.round(unit * 255);
    }
  }
  return out;
}

/** JPEG bytes of the cheap preview of one image of the batch. */
export async function previewJpeg(latent: Float32Array, dims: { batch: number; h: number; w: number }, index = 0, family: PreviewFamily = 'sd1'): Promise<Buffer> {
  return encodeJpeg(latentToRgb(latent, dims, index, family), 80);
}

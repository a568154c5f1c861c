// Live previews: A1111's "Approx cheap" latent-to-RGB projection (sd_vae_approx.cheap_approximation),
// a 4×3 linear map per latent pixel, so a preview costs microseconds instead of a VAE decode.
import { makeRaster, type Raster } from './image-ops.js';
import { encodeJpeg } from './resize.js';

// Rows: latent channels 0..3; columns: R, G, B (SD1.x/SD2.x latent space).
const SD1_LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** One image of a latent batch ([B,4,h,w], image `index`) projected to RGB at latent resolution. */
export function latentToRgb(latent: Float32Array, dims: { batch: number; h: number; w: number }, index = 0): Raster {
  const { h, w } = dims;
  const plane = h * w;
  const base = index * 4 * plane;
  const out = makeRaster(w, h, 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let l = 0; l < 4; l++) v += latent[base + l * plane + p]! * SD1_LATENT_RGB[l]![c]!;
      const unit = Math.min(1, Math.max(0, (v + 1) / 2));
      out.data[p * 3 + c] = Math.round(unit * 255);
    }
  }
  return out;
}

/** JPEG bytes of the cheap preview of one image of the batch. */
export async function previewJpeg(latent: Float32Array, dims: { batch: number; h: number; w: number }, index = 0): Promise<Buffer> {
  return encodeJpeg(latentToRgb(latent, dims, index), 80);
}

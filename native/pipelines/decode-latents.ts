// Latents to 8-bit images, one image at a time as A1111's decode_latent_batch does (bounded
// memory): z / scale_factor → VAE decode → clamp((x+1)/2)·255 truncated (sampling/image.ts).
import { LATENT_CHANNELS } from '../sampling/denoiser.js';
import { decodedToUint8 } from '../sampling/image.js';
import { f32 } from '../sampling/torch-math.js';
import type { Raster } from './image-ops.js';
import type { Engine } from './engine.js';

/** Decodes image `i` of a [B, 4, h, w] latent to an RGB raster of 8h × 8w. */
export async function decodeLatent(engine: Engine, samples: Float32Array, i: number, h: number, w: number): Promise<Raster> {
  const per = LATENT_CHANNELS * h * w;
  const inv = f32(1 / engine.latent.scaleFactor);
  const z = new Float32Array(per);
  for (let k = 0; k < per; k++) z[k] = f32(inv * samples[i * per + k]!);
  const decoded = await engine.model.vae.decode(z, { batch: 1, h, w }); // [1, 3, H, W]
  return { width: w * 8, height: h * 8, channels: 3, data: decodedToUint8(decoded, { batch: 1, height: h * 8, width: w * 8 }) };
}

/** Every image of a [B, 4, h, w] latent. */
export async function decodeLatents(engine: Engine, samples: Float32Array, batch: number, h: number, w: number): Promise<Raster[]> {
  const out: Raster[] = [];
  for (let i = 0; i < batch; i++) out.push(await decodeLatent(engine, samples, i, h, w));
  return out;
}

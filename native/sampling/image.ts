// Conversions between the VAE's float images and 8-bit RGB, exactly as A1111 does them: decoding
// clamps (x + 1)/2 to [0, 1], multiplies by 255 in float32 and TRUNCATES (numpy astype(uint8));
// img2img input is uint8 / 255 in float32, then 2x − 1.
import { SamplingError } from './errors.js';
import { f32 } from './torch-math.js';

export interface ImageDims {
  batch: number;
  height: number;
  width: number;
}

const CHANNELS = 3;

function checkLength(got: number, dims: ImageDims, what: string): void {
  const want = dims.batch * CHANNELS * dims.height * dims.width;
  if (got !== want) {
    throw new SamplingError('bad_shape', `${what} must hold ${dims.batch}×3×${dims.height}×${dims.width} = ${want} values, got ${got}`);
  }
}

/**
 * VAE output [B,3,H,W] in about [−1, 1] → interleaved RGB bytes [B,H,W,3].
 *
 * @example decodedToUint8(decoded, { batch: 1, height: 512, width: 512 }) // 786432 bytes
 */
export function decodedToUint8(decoded: Float32Array, dims: ImageDims): Uint8Array {
  checkLength(decoded.length, dims, 'decoded image');
  const { batch, height, width } = dims;
  const plane = height * width;
  const out = new Uint8Array(batch * plane * CHANNELS); // [B,H,W,3]
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < CHANNELS; c++) {
      const src = (b * CHANNELS + c) * plane;
      for (let p = 0; p < plane; p++) {
        const unit = Math.min(Math.max(f32(f32(decoded[src + p] + 1) / 2), 0), 1);
        out[(b * plane + p) * CHANNELS + c] = Math.trunc(f32(255 * unit));
      }
    }
  }
  return out;
}

/** Interleaved RGB bytes [B,H,W,3] → [B,3,H,W] in [−1, 1] (the VAE encoder's input). */
export function uint8ToUnit(rgb: Uint8Array, dims: ImageDims): Float32Array {
  checkLength(rgb.length, dims, 'RGB image');
  const { batch, height, width } = dims;
  const plane = height * width;
  const out = new Float32Array(rgb.length); // [B,3,H,W]
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < CHANNELS; c++) {
        const v = f32(rgb[(b * plane + p) * CHANNELS + c] / 255);
        out[(b * CHANNELS + c) * plane + p] = f32(2 * v) - 1;
      }
    }
  }
  return out;
}

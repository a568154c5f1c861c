// k-diffusion's CompVisDenoiser for eps-prediction models: it turns the UNet's eps into the denoised
// estimate D(x, σ) = x − σ·eps, feeding the UNet x·c_in with c_in = 1/sqrt(σ² + 1) and the
// fractional timestep sigma_to_t(σ). The UNet itself is a callback, so this file never touches
// onnxruntime.
import { sigmaToT, type ModelSchedule } from './schedules.js';
import { f32 } from './torch-math.js';

/** Latent channels of SD1/SD2 UNets and VAEs. */
export const LATENT_CHANNELS = 4;

/** Sizes of one UNet call, named as helper D's UNetRunner takes them. */
export interface UNetDims {
  batch: number;
  /** Latent height and width (image size / 8). */
  h: number;
  w: number;
  /** Context length (77·chunks). */
  tokens: number;
}

/**
 * What a UNet call may carry besides its tensors: which rows are cond (true) or uncond (false), for
 * ControlNet's cfg injection, and the ControlNet residuals to add (native/controlnet/apply.ts).
 */
export interface UNetCallExtra {
  condRows?: readonly boolean[];
  residuals?: readonly Float32Array[];
}

/** The raw UNet: eps for x [B,4,h,w], timesteps t [B], context [B,tokens,C] and, for SDXL, the ADM vectors y [B,adm]. */
export type UNetEpsFn = (x: Float32Array, t: Float32Array, context: Float32Array, dims: UNetDims, y?: Float32Array, extra?: UNetCallExtra) => Promise<Float32Array>;

/** k-diffusion's scalings for eps models (sigma_data = 1), in float32. */
export function compVisScalings(sigma: number): { cIn: number; cOut: number } {
  return { cIn: f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1)))), cOut: -sigma };
}

/**
 * D(x, σ) for `dims.batch` rows that all share σ.
 *
 * @example await compVisDenoise(unet, schedule, x, 14.6, context, { batch: 2, h: 64, w: 64, tokens: 77 })
 */
export async function compVisDenoise(
  unet: UNetEpsFn,
  schedule: ModelSchedule,
  x: Float32Array, // [B,4,h,w]
  sigma: number,
  context: Float32Array, // [B,tokens,C]
  dims: UNetDims,
  y?: Float32Array, // [B,adm] (SDXL)
  extra?: UNetCallExtra,
): Promise<Float32Array> {
  const { cIn, cOut } = compVisScalings(sigma);
  const scaled = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) scaled[k] = x[k] * cIn;
  const t = new Float32Array(dims.batch).fill(sigmaToT(schedule, sigma)); // [B]
  const eps = await unet(scaled, t, context, dims, y, extra); // [B,4,h,w]
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = x[k] + f32(eps[k] * cOut);
  return out;
}

// A1111's classifier-free guidance (CFGDenoiser / CFGDenoiserTimesteps) over a batch of images:
// per call it picks each prompt's scheduled conditioning by the DENOISER CALL index (prompt
// editing), runs cond and uncond rows through the model — one batched call [conds; unconds] when
// their token lengths match, otherwise the conds and then the unconds, never padded to each other —
// and combines `D_u + Σ_parts (D_c − D_u)·(weight·cfg_scale)`. The k-diffusion path guides the
// denoised estimate, the DDIM path guides eps.
import { compVisDenoise, LATENT_CHANNELS, type UNetCallExtra, type UNetDims, type UNetEpsFn } from './denoiser.js';
import { SamplingError } from './errors.js';
import type { DenoiseFn, EpsFn } from './sampler.js';
import type { ModelSchedule } from './schedules.js';
import { f32 } from './torch-math.js';

/** One prompt's conditioning [1, tokens, C] (tokens = 77·chunks), plus SDXL's ADM vector [1, adm]. */
export interface CondTensor {
  data: Float32Array;
  tokens: number;
  /** Present exactly when the model takes a vector (CfgOptions.vectorDim). */
  vector?: Float32Array;
}

/** A prompt-editing schedule entry: used while the call index ≤ endAtStep. */
export interface ScheduledCond {
  endAtStep: number;
  cond: CondTensor;
}

/** One AND-part of a prompt (A1111 multicond): its schedule and weight (1 without `AND … :w`). */
export interface WeightedSchedule {
  weight: number;
  schedule: readonly ScheduledCond[];
}

/** The conditioning of one image of the batch. */
export interface CfgImage {
  conds: readonly WeightedSchedule[];
  uncond: readonly ScheduledCond[];
}

export interface CfgOptions {
  unet: UNetEpsFn;
  images: readonly CfgImage[];
  cfgScale: number;
  /** Width C of the conditioning vectors. */
  contextDim: number;
  /** Width of the ADM vector each row also carries (SDXL); absent for SD1. */
  vectorDim?: number;
  /** Latent height and width. */
  h: number;
  w: number;
}

/** A single prompt and negative prompt with no editing, for every image of a batch. */
export function plainCfgImages(cond: CondTensor, uncond: CondTensor, batch: number): CfgImage[] {
  return Array.from({ length: batch }, () => ({
    conds: [{ weight: 1, schedule: [{ endAtStep: Number.POSITIVE_INFINITY, cond }] }],
    uncond: [{ endAtStep: Number.POSITIVE_INFINITY, cond: uncond }],
  }));
}

/**
 * A1111 reconstruct_cond_batch: the first entry with `step <= end_at_step`; when none qualifies
 * (second-order samplers can call past the last end step) A1111 falls back to the FIRST entry.
 */
export function pickScheduled(schedule: readonly ScheduledCond[], step: number): CondTensor {
  if (schedule.length === 0) throw new SamplingError('bad_shape', 'a prompt schedule must have at least one entry');
  const hit = schedule.find((e) => step <= e.endAtStep);
  return (hit ?? schedule[0]).cond;
}

/** Stacks [1, L_i, C] tensors into [N, L, C], padding shorter ones with their last vector (A1111). */
function stackPadded(conds: readonly CondTensor[], tokens: number, dim: number): Float32Array {
  const out = new Float32Array(conds.length * tokens * dim);
  conds.forEach((c, n) => {
    if (c.data.length !== c.tokens * dim) {
      throw new SamplingError('bad_shape', `conditioning must hold ${c.tokens}×${dim} values, got ${c.data.length}`);
    }
    const base = n * tokens * dim;
    out.set(c.data, base);
    const last = c.data.subarray((c.tokens - 1) * dim, c.tokens * dim);
    for (let tk = c.tokens; tk < tokens; tk++) out.set(last, base + tk * dim);
  });
  return out;
}

/** Rows' ADM vectors stacked [N, adm] (undefined for models without one). */
function stackVectors(conds: readonly CondTensor[], dim: number | undefined): Float32Array | undefined {
  if (dim === undefined) return undefined;
  const out = new Float32Array(conds.length * dim);
  conds.forEach((c, n) => {
    if (!c.vector || c.vector.length !== dim) throw new SamplingError('bad_shape', `conditioning vector must hold ${dim} values, got ${c.vector?.length ?? 0}`);
    out.set(c.vector, n * dim);
  });
  return out;
}

/** Runs `rows` latent rows with their context (and vectors) through the model (k-diffusion D or DDIM eps). */
type InnerModel = (x: Float32Array, context: Float32Array, dims: UNetDims, y: Float32Array | undefined, extra: UNetCallExtra) => Promise<Float32Array>;

/** `cond` rows then `uncond` rows, as the batch is laid out ([conds; unconds], A1111's order). */
function rowKinds(cond: number, uncond: number): boolean[] {
  return [...new Array<boolean>(cond).fill(true), ...new Array<boolean>(uncond).fill(false)];
}

async function guide(opts: CfgOptions, x: Float32Array, step: number, inner: InnerModel): Promise<Float32Array> {
  const { images, contextDim: dim, h, w } = opts;
  const batch = images.length;
  const per = LATENT_CHANNELS * h * w;
  if (x.length !== batch * per) {
    throw new SamplingError('bad_shape', `latent must hold ${batch}×${LATENT_CHANNELS}×${h}×${w} = ${batch * per} values, got ${x.length}`);
  }
  const condRows: { image: number; weight: number; cond: CondTensor }[] = [];
  images.forEach((img, image) => {
    for (const part of img.conds) condRows.push({ image, weight: part.weight, cond: pickScheduled(part.schedule, step) });
  });
  const unconds = images.map((img) => pickScheduled(img.uncond, step));
  const condTokens = Math.max(...condRows.map((r) => r.cond.tokens));
  const uncondTokens = Math.max(...unconds.map((c) => c.tokens));
  const condCtx = stackPadded(condRows.map((r) => r.cond), condTokens, dim); // [Nc, Lc, C]
  const uncondCtx = stackPadded(unconds, uncondTokens, dim); // [B, Lu, C]
  const vdim = opts.vectorDim;
  const condY = stackVectors(condRows.map((r) => r.cond), vdim); // [Nc, adm]
  const uncondY = stackVectors(unconds, vdim); // [B, adm]
  const nc = condRows.length;
  const xIn = new Float32Array((nc + batch) * per); // [Nc + B, 4, h, w]
  condRows.forEach((r, n) => xIn.set(x.subarray(r.image * per, (r.image + 1) * per), n * per));
  xIn.set(x, nc * per);

  let outCond: Float32Array;
  let outUncond: Float32Array;
  if (condTokens === uncondTokens) {
    const ctx = new Float32Array((nc + batch) * condTokens * dim); // [Nc + B, L, C]
    ctx.set(condCtx);
    ctx.set(uncondCtx, condCtx.length);
    let y: Float32Array | undefined;
    if (condY && uncondY) {
      y = new Float32Array(condY.length + uncondY.length); // [Nc + B, adm]
      y.set(condY);
      y.set(uncondY, condY.length);
    }
    const out = await inner(xIn, ctx, { batch: nc + batch, h, w, tokens: condTokens }, y, { condRows: rowKinds(nc, batch) });
    outCond = out.subarray(0, nc * per);
    outUncond = out.subarray(nc * per);
  } else {
    // A1111 runs the cond rows in chunks of 2·batch, then all uncond rows in one call.
    outCond = new Float32Array(nc * per);
    for (let a = 0; a < nc; a += 2 * batch) {
      const b = Math.min(a + 2 * batch, nc);
      const part = await inner(xIn.slice(a * per, b * per), condCtx.slice(a * condTokens * dim, b * condTokens * dim), {
        batch: b - a,
        h,
        w,
        tokens: condTokens,
      }, condY && vdim !== undefined ? condY.slice(a * vdim, b * vdim) : undefined, { condRows: rowKinds(b - a, 0) });
      outCond.set(part, a * per);
    }
    outUncond = await inner(xIn.slice(nc * per), uncondCtx, { batch, h, w, tokens: uncondTokens }, uncondY, { condRows: rowKinds(0, batch) });
  }

  const denoised = Float32Array.from(outUncond); // [B, 4, h, w]
  condRows.forEach((r, n) => {
    const scale = f32(r.weight * opts.cfgScale);
    const u = r.image * per;
    const c = n * per;
    for (let k = 0; k < per; k++) denoised[u + k] = denoised[u + k] + f32(f32(outCond[c + k] - outUncond[u + k]) * scale);
  });
  return denoised;
}

/**
 * The guided denoiser for k-diffusion samplers (A1111 CFGDenoiser over CompVisDenoiser).
 *
 * @example sampler.sample({ x, sigmas, denoise: createCfgDenoiser(opts, schedule), noise, ... })
 */
export function createCfgDenoiser(opts: CfgOptions, schedule: ModelSchedule): DenoiseFn {
  return (x, sigma, callIndex) => guide(opts, x, callIndex, (xs, ctx, dims, y, extra) => compVisDenoise(opts.unet, schedule, xs, sigma, ctx, dims, y, extra));
}

/** The guided eps model for DDIM (A1111 CFGDenoiserTimesteps: UNet on x unscaled, CFG on eps). */
export function createCfgEps(opts: CfgOptions): EpsFn {
  return (x, t, callIndex) =>
    guide(opts, x, callIndex, (xs, ctx, dims, y, extra) => opts.unet(xs, new Float32Array(dims.batch).fill(t), ctx, dims, y, extra));
}

// Hires fix, as AUTOMATIC1111 v1.10.1 StableDiffusionProcessingTxt2Img runs it after the first
// pass: target size (hr_scale or hr_resize_x/y), latent upscale (torch F.interpolate) or image
// upscale (decode → 8-bit → upscaler → VAE encode with the global-RNG sample), the hr_resize crop,
// then an img2img second pass with its own seed noise, conditioning, sampler and step count.
// The step-by-step ground truth is ../shared/fixtures/sd1-hires/README.md.
import { interpolate, type InterpolateMode } from '../image/torch-interpolate.js';
import type { CfgImage, CfgOptions, ScheduledCond } from '../sampling/cfg.js';
import { LATENT_CHANNELS, type UNetEpsFn } from '../sampling/denoiser.js';
import { uint8ToUnit } from '../sampling/image.js';
import { effectiveScheduler, SAMPLERS, SCHEDULERS, type SamplerId, type SchedulerId } from '../sampling/names.js';
import { promptScheduleSteps, samplerById } from '../sampling/registry.js';
import { plannedSteps, runSampling } from '../sampling/run.js';
import type { SamplerStep } from '../sampling/sampler.js';
import { createGenerator, type RngSource } from '../sampling/seeds.js';
import { f32 } from '../sampling/torch-math.js';
import type { ScheduledConditioning } from '../text/conditioning.js';
import type { ConditioningContext, TextConditioner } from '../families/types.js';
import { extractLoraTags } from '../text/lora-tags.js';
import type { Raster } from './image-ops.js';
import { PipelineError } from './pipeline-error.js';
import type { Engine } from './engine.js';
import type { GenerateRequest, GenerateResources, HiresOptions, ImageUpscale } from './types.js';

/** A1111 shared.latent_upscale_modes: upscaler name → torch interpolate mode. */
export const LATENT_UPSCALE_MODES: Readonly<Record<string, { mode: InterpolateMode; antialias: boolean }>> = {
  Latent: { mode: 'bilinear', antialias: false },
  'Latent (antialiased)': { mode: 'bilinear', antialias: true },
  'Latent (bicubic)': { mode: 'bicubic', antialias: false },
  'Latent (bicubic antialiased)': { mode: 'bicubic', antialias: true },
  'Latent (nearest)': { mode: 'nearest', antialias: false },
  'Latent (nearest-exact)': { mode: 'nearest-exact', antialias: false },
};

/** The image upscalers that need no model file (A1111 UpscalerNone / UpscalerLanczos / UpscalerNearest). */
export const BUILTIN_IMAGE_UPSCALERS = ['None', 'Lanczos', 'Nearest'] as const;

export interface HiresTarget {
  /** hr_upscale_to_x / _y: the size the first pass is upscaled to. */
  toX: number;
  toY: number;
  /** Latent rows/columns cut after upscaling (hr_resize_x/y with another aspect ratio). */
  truncateX: number;
  truncateY: number;
  /** The final image size: 8 × the cropped latent. */
  width: number;
  height: number;
}

/**
 * A1111 calculate_target_resolution (use_old_hires_fix_width_height off) plus the crop's final size.
 *
 * @example hiresTarget(64, 96, { scale: 2, width: 112, height: 128 }) // to 112×168, truncateY 5, final 112×128
 */
export function hiresTarget(width: number, height: number, h: Pick<HiresOptions, 'scale' | 'width' | 'height'>): HiresTarget {
  const rx = h.width ?? 0, ry = h.height ?? 0;
  let toX: number, toY: number, truncateX = 0, truncateY = 0;
  if (rx === 0 && ry === 0) {
    toX = Math.trunc(width * h.scale);
    toY = Math.trunc(height * h.scale);
  } else if (ry === 0) {
    toX = rx;
    toY = Math.floor((rx * height) / width);
  } else if (rx === 0) {
    toX = Math.floor((ry * width) / height);
    toY = ry;
  } else {
    if (width / height < rx / ry) {
      toX = rx;
      toY = Math.floor((rx * height) / width);
    } else {
      toX = Math.floor((ry * width) / height);
      toY = ry;
    }
    truncateX = Math.floor((toX - rx) / 8);
    truncateY = Math.floor((toY - ry) / 8);
  }
  const lh = Math.floor(toY / 8), lw = Math.floor(toX / 8);
  const ch = lh - Math.floor(truncateY / 2) - Math.floor((truncateY + 1) / 2);
  const cw = lw - Math.floor(truncateX / 2) - Math.floor((truncateX + 1) / 2);
  return { toX, toY, truncateX, truncateY, width: cw * 8, height: ch * 8 };
}

/** `samples[:, :, ty//2 : H − (ty+1)//2, tx//2 : W − (tx+1)//2]` for [planes, H, W] data. */
export function cropLatent(data: Float32Array, planes: number, h: number, w: number, truncateX: number, truncateY: number): { data: Float32Array; h: number; w: number } {
  const top = Math.floor(truncateY / 2), left = Math.floor(truncateX / 2);
  const ch = h - top - Math.floor((truncateY + 1) / 2), cw = w - left - Math.floor((truncateX + 1) / 2);
  if (truncateX === 0 && truncateY === 0) return { data, h, w };
  const out = new Float32Array(planes * ch * cw);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < ch; y++) out.set(data.subarray(p * h * w + (top + y) * w + left, p * h * w + (top + y) * w + left + cw), (p * ch + y) * cw);
  }
  return { data: out, h: ch, w: cw };
}

/** The schedule label A1111 records for a pass (a scheduler with a sigma function), if any. */
function scheduleLabel(sampler: SamplerId, scheduler: SchedulerId): string | undefined {
  if (samplerById(sampler).kind === 'timesteps') return undefined;
  const info = SAMPLERS.find((s) => s.id === sampler)!;
  if (scheduler === 'automatic' && info.defaultScheduler === 'uniform') return undefined; // model_wrap.get_sigmas
  return SCHEDULERS.find((s) => s.id === effectiveScheduler(info, scheduler))?.label;
}

/** Python's str() of a float: `2.0`, `1.5`. */
export function pyFloat(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** Everything the second pass needs, resolved once per request (A1111 txt2img init()). */
export interface HiresPlan {
  target: HiresTarget;
  /** Latent mode, or null for an image upscaler. */
  latentMode: { mode: InterpolateMode; antialias: boolean } | null;
  upscaler: string;
  sampler: SamplerId;
  scheduler: SchedulerId;
  /** hr_second_pass_steps or steps: the steps actually run. */
  steps: number;
  /** int(steps / min(d, 0.999)): the schedule the second pass slices. */
  stepsTotal: number;
  tEnc: number;
  denoisingStrength: number;
  prompt: string;
  negativePrompt: string;
  /** Sampler steps the second pass reports (progress). */
  plannedSteps: number;
  saveFirstPass: boolean;
  /** A1111 extra_generation_params of the hires fix, in A1111's insertion order. */
  infotext: [string, string | number][];
}

export interface FirstPassInfo {
  width: number;
  height: number;
  steps: number;
  sampler: SamplerId;
  scheduler: SchedulerId;
  prompt: string;
  negativePrompt: string;
}

/** Validates the request's hires options and derives the plan; throws PipelineError('bad_input' | 'upscaler_not_found'). */
export function planHires(engine: Pick<Engine, 'schedule'>, first: FirstPassInfo, h: HiresOptions, hasImageUpscale: (name: string) => boolean): HiresPlan {
  if (!(h.scale > 0) || !Number.isFinite(h.scale)) throw new PipelineError('bad_input', `hires scale must be a positive number, got ${h.scale}`);
  for (const [k, v] of [['width', h.width ?? 0], ['height', h.height ?? 0], ['steps', h.steps ?? 0]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new PipelineError('bad_input', `hires ${k} must be a non-negative integer (0 = unset), got ${v}`);
  }
  const d = h.denoising_strength;
  if (!(d > 0 && d <= 1)) throw new PipelineError('bad_input', `hires denoising_strength must be in (0, 1], got ${d}`);
  const target = hiresTarget(first.width, first.height, h);
  if (target.width < 8 || target.height < 8) throw new PipelineError('bad_input', `hires target ${target.toX}x${target.toY} is too small`);
  const upscaler = h.upscaler ?? 'Latent';
  const latentMode = LATENT_UPSCALE_MODES[upscaler] ?? null;
  if (!latentMode && !(BUILTIN_IMAGE_UPSCALERS as readonly string[]).includes(upscaler) && !hasImageUpscale(upscaler)) {
    throw new PipelineError('upscaler_not_found', `could not find upscaler named "${upscaler}"`);
  }
  const sampler = h.sampler ?? first.sampler;
  const scheduler = h.scheduler ?? first.scheduler;
  const steps = h.steps || first.steps;
  const stepsTotal = Math.trunc(steps / Math.min(d, 0.999));
  const tEnc = steps - 1;
  const prompt = h.prompt || first.prompt;
  const negativePrompt = h.negative_prompt || first.negativePrompt;

  const infotext: [string, string | number][] = [];
  if (sampler !== first.sampler) infotext.push(['Hires sampler', SAMPLERS.find((s) => s.id === sampler)!.label]);
  if (prompt !== first.prompt) infotext.push(['Hires prompt', prompt]);
  if (negativePrompt !== first.negativePrompt) infotext.push(['Hires negative prompt', negativePrompt]);
  const hiresLabel = scheduleLabel(sampler, scheduler);
  if (hiresLabel !== undefined && hiresLabel !== scheduleLabel(first.sampler, first.scheduler)) infotext.push(['Hires schedule type', hiresLabel]);
  if ((h.width ?? 0) === 0 && (h.height ?? 0) === 0) infotext.push(['Hires upscale', pyFloat(h.scale)]);
  else infotext.push(['Hires resize', `${h.width ?? 0}x${h.height ?? 0}`]);
  if (h.steps) infotext.push(['Hires steps', h.steps]);
  if (h.upscaler != null) infotext.push(['Hires upscaler', h.upscaler]);

  return {
    target,
    latentMode,
    upscaler,
    sampler,
    scheduler,
    steps,
    stepsTotal,
    tEnc,
    denoisingStrength: d,
    prompt,
    negativePrompt,
    plannedSteps: plannedSteps({ sampler, scheduler, steps: stepsTotal, schedule: engine.schedule, strength: d, tEnc }),
    saveFirstPass: h.save_first_pass === true,
    infotext,
  };
}

function toScheduled(s: readonly ScheduledConditioning[]): ScheduledCond[] {
  return s.map((e) => ({ endAtStep: e.endAtStep, cond: { data: e.cond.data, tokens: e.cond.tokens } }));
}

/**
 * A1111 calculate_hr_conds: the hires prompts scheduled over the first pass's total steps with
 * `hires_steps` = the second pass's (fractions count from 1.0, integers from the first pass's end).
 */
export async function hiresConditioning(
  plan: HiresPlan,
  first: FirstPassInfo,
  conditioner: TextConditioner,
  ctx: ConditioningContext,
  firstLoras: readonly string[],
): Promise<CfgImage> {
  const positive = extractLoraTags(plan.prompt);
  const negative = extractLoraTags(plan.negativePrompt);
  const names = [...new Set(positive.loras.map((l) => l.name))].sort().join('\n');
  if (names !== [...new Set(firstLoras)].sort().join('\n')) {
    throw new PipelineError('bad_input', 'the hires prompt must use the same LoRAs as the prompt (a different LoRA set per pass is not supported)');
  }
  const steps = promptScheduleSteps(first.sampler, first.steps);
  // A1111 builds the hires conds at the hires size (SdConditioning of hr_upscale_to_x/y: SDXL's size embedding).
  const hctx: ConditioningContext = { ...ctx, width: plan.target.toX, height: plan.target.toY, schedule: { hiresSteps: promptScheduleSteps(plan.sampler, plan.steps) } };
  const [[parts], [uncond]] = await Promise.all([
    conditioner.multicond([positive.prompt], steps, hctx),
    conditioner.learned([negative.prompt], steps, { ...hctx, isNegative: true }),
  ]);
  return { conds: parts!.map((p) => ({ weight: p.weight, schedule: toScheduled(p.schedule) })), uncond: toScheduled(uncond!) };
}

export interface HiresPassInput {
  engine: Engine;
  plan: HiresPlan;
  /** First-pass latent [B, 4, h, w] (scaled, as the sampler returns it). */
  samples: Float32Array;
  h: number;
  w: number;
  /** First-pass images as saved (8-bit), needed by image upscalers. */
  firstImages: () => Promise<Raster[]>;
  seeds: readonly number[];
  rng: RngSource;
  cfgImage: CfgImage;
  cfgScale: number;
  /** Wraps the UNet for 9-channel inpainting models, given the latent size. */
  unetFor: (h: number, w: number) => Promise<UNetEpsFn>;
  upscaleImage?: ImageUpscale;
  signal?: AbortSignal;
  onStep?: (s: SamplerStep) => void;
}

/** The hires latent [B, 4, h, w] before the crop: interpolated, or decoded → upscaled → encoded. */
async function upscaleLatent(inp: HiresPassInput): Promise<Float32Array> {
  const { plan, engine, seeds } = inp;
  const { toX, toY } = plan.target;
  const lh = Math.floor(toY / 8), lw = Math.floor(toX / 8);
  if (plan.latentMode) {
    return interpolate({ data: inp.samples, planes: seeds.length * LATENT_CHANNELS, h: inp.h, w: inp.w }, lh, lw, plan.latentMode.mode, plan.latentMode.antialias);
  }
  const images = await inp.firstImages();
  const per = LATENT_CHANNELS * lh * lw;
  const out = new Float32Array(seeds.length * per);
  // The VAE sample draws from torch's global generator, which the first pass's ImageRNG left
  // seeded with the batch's last seed (torch.manual_seed per image); one draw per image, in order.
  const globalRng = createGenerator('cpu', seeds[seeds.length - 1]!);
  const scale = f32(engine.config.scale_factor);
  for (let i = 0; i < images.length; i++) {
    let img = images[i]!;
    if (!inp.upscaleImage) throw new PipelineError('upscaler_not_found', `upscaler "${plan.upscaler}" needs the image upscalers, which this build does not provide`);
    img = await inp.upscaleImage(img, plan.upscaler, toX, toY, inp.signal);
    if (img.width !== toX || img.height !== toY || img.channels !== 3) {
      throw new Error(`upscaler returned ${img.width}x${img.height}x${img.channels}, expected ${toX}x${toY}x3`);
    }
    inp.signal?.throwIfAborted();
    const unit = uint8ToUnit(img.data, { batch: 1, height: toY, width: toX });
    const moments = await engine.model.vae.encodeMoments(unit, { batch: 1, h: lh, w: lw }); // [1, 8, lh, lw]
    const noise = globalRng.randn(per);
    for (let k = 0; k < per; k++) {
      const logvar = Math.min(20, Math.max(-30, moments[per + k]!));
      const std = f32(Math.exp(f32(0.5 * logvar)));
      out[i * per + k] = f32(scale * f32(moments[k]! + f32(std * noise[k]!)));
    }
  }
  return out;
}

/**
 * Runs the upscale, crop and second pass for one batch; returns the final latent and its size.
 *
 * @example const { samples, h, w } = await runHiresPass({ engine, plan, samples, h: 8, w: 8, ... })
 */
export async function runHiresPass(inp: HiresPassInput): Promise<{ samples: Float32Array; h: number; w: number }> {
  const { plan, seeds } = inp;
  const upscaled = await upscaleLatent(inp);
  if (inp.signal?.aborted) throw new PipelineError('cancelled', 'generation was cancelled');
  const lh = Math.floor(plan.target.toY / 8), lw = Math.floor(plan.target.toX / 8);
  const cropped = cropLatent(upscaled, seeds.length * LATENT_CHANNELS, lh, lw, plan.target.truncateX, plan.target.truncateY);
  const cfg: CfgOptions = {
    unet: await inp.unetFor(cropped.h, cropped.w),
    images: seeds.map(() => inp.cfgImage),
    cfgScale: inp.cfgScale,
    contextDim: inp.engine.config.unet.context_dim,
    vectorDim: inp.engine.config.unet.adm_in_channels,
    h: cropped.h,
    w: cropped.w,
  };
  // A new ImageRNG of the cropped shape: its first draw is the noise, later draws feed the sampler.
  const { samples } = await runSampling({
    sampler: plan.sampler,
    scheduler: plan.scheduler,
    steps: plan.stepsTotal,
    schedule: inp.engine.schedule,
    cfg,
    seeds,
    rng: inp.rng,
    img2img: { initLatent: cropped.data, strength: plan.denoisingStrength, tEnc: plan.tEnc },
    signal: inp.signal,
    onStep: inp.onStep,
  });
  if (inp.signal?.aborted) throw new PipelineError('cancelled', 'generation was cancelled');
  return { samples, h: cropped.h, w: cropped.w };
}

/** The hires fix of one request: its plan and second-pass conditioning (null when off). */
export interface HiresSetup {
  plan: HiresPlan;
  cfgImage: CfgImage;
}

/**
 * A1111 txt2img init() for enable_hr: refuses hires on img2img/inpaint, resolves the plan and
 * computes the hires conditioning.
 */
export async function setupHires(
  engine: Engine,
  req: GenerateRequest,
  ctx: ConditioningContext,
  firstLoras: readonly string[],
  resources: GenerateResources,
): Promise<HiresSetup | null> {
  if (!req.hires?.enabled) return null;
  if (req.task !== 'txt2img') throw new PipelineError('bad_input', `hires fix is for txt2img only, got task ${req.task}`);
  const first: FirstPassInfo = {
    width: req.width,
    height: req.height,
    steps: req.steps,
    sampler: req.sampler,
    scheduler: req.scheduler,
    prompt: req.prompt,
    negativePrompt: req.negative_prompt,
  };
  const plan = planHires(engine, first, req.hires, (name) => resources.hasUpscaler?.(name) ?? false);
  return { plan, cfgImage: await hiresConditioning(plan, first, engine.conditioner, ctx, firstLoras) };
}

// ADetailer's postprocess_image for one image, as v25.3.0 runs it: for every enabled tab in order,
// detect on the current image (Ultralytics call), pred_preprocessing → masks, then one img2img
// inpaint pass per mask on the current image through the ordinary `generate` pipeline — "inpaint
// only masked" with the tab's padding, mask blur and denoising, masked content "original", the
// image's seed + the mask index (ADetailer's get_each_tab_seed), the tab's prompt rules ([SEP],
// [PROMPT], [SKIP], empty = the main prompt) and `ad_use_*` overrides. Each pass's result feeds
// the next; a tab that detects nothing leaves the image as it is.
import type { Detector } from '../detect/detector.js';
import { DetectorError } from '../detect/detector-error.js';
import { generate } from '../pipelines/generate.js';
import type { Raster } from '../pipelines/image-ops.js';
import { encodePng } from '../pipelines/resize.js';
import type { Engine } from '../pipelines/engine.js';
import type { GenerateRequest, GenerateResources } from '../pipelines/types.js';
import { findScheduler, resolveSampler, type SamplerId, type SchedulerId } from '../sampling/names.js';
import type { RngSource } from '../sampling/seeds.js';
import { ADetailerError } from './adetailer-error.js';
import { needSkip, unsupportedOption, type ADetailerArgs } from './args.js';
import { inpaintMaskFilter } from './inpaint-filter.js';
import { predPreprocessing, toPrediction } from './masks.js';

/** The main generation's parameters (A1111's `p`) that the inpaint passes inherit. */
export interface ADetailerContext {
  prompt: string;
  negative_prompt: string;
  /** The image's own seed (`p.all_seeds[i]`). */
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler: SamplerId;
  scheduler: SchedulerId;
  clip_skip: number;
  /** p.width / p.height: the processing size of "only masked" passes. */
  width: number;
  height: number;
  rng: RngSource;
  loras?: { name: string; weight: number }[];
  /**
   * An img2img inpaint request's own mask (ADetailer's get_image_mask) when it inpaints the whole
   * picture: only detections touching it are inpainted (inpaint_mask_filter).
   */
  inpaintMask?: Raster | null;
}

export interface ADetailerDeps {
  /** The engine to inpaint with: the current one (null) or `ad_checkpoint`. */
  engine(checkpoint: string | null): Promise<Engine>;
  /** A loaded detector by its name in $MODELS_DIR/detectors. */
  detector(name: string): Promise<Detector>;
  /** Extra-network resources; `vae` set when the tab overrides the VAE. */
  resources(vae: string | null): Promise<GenerateResources>;
}

export interface DetectedInfo {
  /** Tab index (0-based). */
  unit: number;
  model: string;
  boxes: number[][];
  confidences: number[];
  /** The masks that will be inpainted, in order, at the image size. */
  masks: Raster[];
  image: Raster;
}

export interface ADetailerHooks {
  signal?: AbortSignal;
  /** After detection and mask preprocessing, before the first inpaint pass of a tab. */
  onDetected?: (info: DetectedInfo) => void | Promise<void>;
  /** Before each inpaint pass: mask `index` of `count` in tab `unit`. */
  onPass?: (info: { unit: number; index: number; count: number }) => void;
  /** Sampler steps inside the current pass. */
  onStep?: (step: number, total: number) => void;
}

export interface ADetailerOutcome {
  image: Raster;
  /** Inpaint passes run (0: nothing detected anywhere, the image is unchanged). */
  passes: number;
}

/** AfterDetailerScript._get_prompt: `[SEP]` splits per detection, empty → main prompt, `[PROMPT]` inserts it. */
export function splitPrompts(adPrompt: string, main: string): string[] {
  return adPrompt.split(/\s*\[SEP\]\s*/).map((p) => (p === '' ? main : p.includes('[PROMPT]') ? p.split('[PROMPT]').join(main) : p));
}

/** The sampler and scheduler of a pass (ADetailer get_sampler / get_scheduler, A1111 ≥ 1.9 resolution). */
function samplerFor(a: ADetailerArgs, ctx: ADetailerContext): { sampler: SamplerId; scheduler: SchedulerId } {
  if (!a.ad_use_sampler) return { sampler: ctx.sampler, scheduler: ctx.scheduler };
  const name = a.ad_sampler === 'Use same sampler' ? ctx.sampler : a.ad_sampler;
  const resolved = resolveSampler(name);
  if (!resolved) throw new ADetailerError('bad_input', `ad_sampler: unknown sampler "${a.ad_sampler}"`);
  let scheduler: SchedulerId = ctx.scheduler;
  if (a.ad_scheduler !== 'Use same scheduler') {
    const s = findScheduler(a.ad_scheduler);
    if (!s) throw new ADetailerError('bad_input', `ad_scheduler: unknown scheduler "${a.ad_scheduler}"`);
    scheduler = s.id;
  }
  // A combined legacy name ("DPM++ 2M Karras") sets the scheduler when the chosen one is Automatic.
  if (scheduler === 'automatic' && resolved.scheduler) scheduler = resolved.scheduler.id;
  return { sampler: resolved.sampler.id, scheduler };
}

/** Options of a tab that Easel cannot honour: refused by name instead of silently ignored. */
export function checkSupported(a: ADetailerArgs): void {
  if (needSkip(a)) return;
  if (a.ad_model.toLowerCase().startsWith('mediapipe')) throw new DetectorError('unsupported_detector', `${a.ad_model}: MediaPipe detectors are not supported; use a YOLOv8 file from models/detectors`);
  const refused = unsupportedOption(a);
  if (refused) throw new ADetailerError('not_implemented', refused.message);
}

/**
 * Runs every enabled tab on one image.
 *
 * @example const { image } = await applyADetailer(rgb, units, { prompt, seed, ... }, deps, { signal })
 */
export async function applyADetailer(
  image: Raster,
  units: readonly ADetailerArgs[],
  ctx: ADetailerContext,
  deps: ADetailerDeps,
  hooks: ADetailerHooks = {},
): Promise<ADetailerOutcome> {
  units.forEach(checkSupported);
  let current = image;
  let passes = 0;
  for (const [n, a] of units.entries()) {
    if (needSkip(a)) continue;
    hooks.signal?.throwIfAborted();
    const detector = await deps.detector(a.ad_model);
    const result = await detector.detect(current, { conf: a.ad_confidence, signal: hooks.signal });
    if (result.detections.length === 0) continue; // "nothing detected on image"
    const pred = toPrediction(result);
    const pre = predPreprocessing(pred, a);
    const { bboxes } = pre;
    const masks = ctx.inpaintMask ? await inpaintMaskFilter(ctx.inpaintMask, pre.masks) : pre.masks;
    if (masks.length === 0) continue;
    await hooks.onDetected?.({ unit: n, model: a.ad_model, boxes: bboxes, confidences: pred.confidences, masks, image: current });
    const prompts = splitPrompts(a.ad_prompt, ctx.prompt);
    const negatives = splitPrompts(a.ad_negative_prompt, ctx.negative_prompt);
    const { sampler, scheduler } = samplerFor(a, ctx);
    const useCheckpoint = a.ad_use_checkpoint && a.ad_checkpoint && a.ad_checkpoint !== 'None' && a.ad_checkpoint !== 'Use same checkpoint' ? a.ad_checkpoint : null;
    const useVae = a.ad_use_vae && a.ad_vae && a.ad_vae !== 'None' && a.ad_vae !== 'Use same VAE' ? a.ad_vae : null;
    for (let j = 0; j < masks.length; j++) {
      const prompt = prompts[Math.min(j, prompts.length - 1)];
      const negative = negatives[Math.min(j, negatives.length - 1)];
      if (/^\s*\[SKIP\]\s*$/.test(prompt)) continue;
      hooks.signal?.throwIfAborted();
      hooks.onPass?.({ unit: n, index: j, count: masks.length });
      const [engine, resources, imagePng, maskPng] = await Promise.all([deps.engine(useCheckpoint), deps.resources(useVae), encodePng(current), encodePng(masks[j])]);
      const req: GenerateRequest = {
        task: 'inpaint',
        prompt,
        negative_prompt: negative,
        width: a.ad_use_inpaint_width_height ? a.ad_inpaint_width : ctx.width,
        height: a.ad_use_inpaint_width_height ? a.ad_inpaint_height : ctx.height,
        steps: a.ad_use_steps ? a.ad_steps : ctx.steps,
        cfg_scale: a.ad_use_cfg_scale ? a.ad_cfg_scale : ctx.cfg_scale,
        sampler,
        scheduler,
        seed: ctx.seed + j,
        batch_size: 1,
        n_iter: 1,
        rng: ctx.rng,
        clip_skip: a.ad_use_clip_skip ? a.ad_clip_skip : ctx.clip_skip,
        image: new Uint8Array(imagePng.buffer, imagePng.byteOffset, imagePng.byteLength),
        mask: new Uint8Array(maskPng.buffer, maskPng.byteOffset, maskPng.byteLength),
        strength: a.ad_denoising_strength,
        mask_blur: a.ad_mask_blur,
        inpaint_full_res: a.ad_inpaint_only_masked,
        inpaint_full_res_padding: a.ad_inpaint_only_masked_padding,
        inpainting_fill: 'original',
        inpainting_mask_invert: false,
        resize_mode: 0,
        // get_initial_noise_multiplier: the tab's value, else None → A1111's option (1.0), not the
        // main request's multiplier.
        initial_noise_multiplier: a.ad_use_noise_multiplier ? a.ad_noise_multiplier : 1,
        loras: ctx.loras,
      };
      const out = await generate(engine, req, { signal: hooks.signal, onProgress: hooks.onStep }, resources);
      current = out.images[0].rgb;
      passes++;
    }
  }
  return { image: current, passes };
}

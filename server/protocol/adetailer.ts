// The ADetailer unit on the wire: ADetailer v25.3.0's own `ad_*` argument names (adetailer/args.py),
// every field optional (the engine fills ADetailer's defaults, native/adetailer/args.ts), so an
// A1111 `alwayson_scripts.ADetailer.args` dict validates as it is. Used by `generate.adetailer[]`
// and the `adetailer` action's `units`. zod only (web imports this).
import { z } from 'zod';
import { findScheduler, resolveSampler } from '../../native/sampling/names.js';
import { unsupportedOption, type ADetailerArgs } from '../../native/adetailer/args.js';

const NAME_MAX = 256;
const unit01 = z.number().min(0).max(1);

export interface AdetailerLimits {
  maxPromptChars: number;
  maxSteps: number;
  maxSide: number;
}

/** One ADetailer tab (`ad_model` required; "None" = skipped, as in ADetailer). */
export function adetailerUnitSchema(limits: AdetailerLimits) {
  const prompt = z.string().max(limits.maxPromptChars, `must be at most ${limits.maxPromptChars} characters`);
  const name = z
    .string()
    .min(1)
    .max(NAME_MAX)
    .refine((s) => !/[\\\0]/.test(s) && !s.split('/').some((seg) => seg === '..'), 'must be a model name, not a path');
  const side = z
    .number()
    .int()
    .refine((v) => v % 8 === 0 && v >= 64 && v <= limits.maxSide, { error: (iss) => `must be a multiple of 8 between 64 and ${limits.maxSide}, got ${String(iss.input)}` });
  return z
    .object({
      ad_model: name,
      ad_model_classes: z.string().max(1000).optional(),
      ad_tab_enable: z.boolean().optional(),
      ad_prompt: prompt.optional(),
      ad_negative_prompt: prompt.optional(),
      ad_confidence: unit01.optional(),
      ad_mask_filter_method: z.enum(['Area', 'Confidence']).optional(),
      ad_mask_k: z.number().int().min(0).max(300).optional(),
      ad_mask_min_ratio: unit01.optional(),
      ad_mask_max_ratio: unit01.optional(),
      ad_dilate_erode: z.number().int().min(-128).max(128).optional(),
      ad_x_offset: z.number().int().min(-4096).max(4096).optional(),
      ad_y_offset: z.number().int().min(-4096).max(4096).optional(),
      ad_mask_merge_invert: z.enum(['None', 'Merge', 'Merge and Invert']).optional(),
      ad_mask_blur: z.number().int().min(0).max(64).optional(),
      ad_denoising_strength: unit01.optional(),
      ad_inpaint_only_masked: z.boolean().optional(),
      ad_inpaint_only_masked_padding: z.number().int().min(0).max(256).optional(),
      ad_use_inpaint_width_height: z.boolean().optional(),
      ad_inpaint_width: side.optional(),
      ad_inpaint_height: side.optional(),
      ad_use_steps: z.boolean().optional(),
      ad_steps: z.number().int().min(1).max(limits.maxSteps).optional(),
      ad_use_cfg_scale: z.boolean().optional(),
      ad_cfg_scale: z.number().min(0).max(30).optional(),
      ad_use_checkpoint: z.boolean().optional(),
      ad_checkpoint: name.nullable().optional(),
      ad_use_vae: z.boolean().optional(),
      ad_vae: name.nullable().optional(),
      ad_use_sampler: z.boolean().optional(),
      ad_sampler: z
        .string()
        .max(64)
        .refine((s) => s === 'Use same sampler' || resolveSampler(s) !== undefined, { error: (iss) => `unknown sampler "${String(iss.input)}"` })
        .optional(),
      ad_scheduler: z
        .string()
        .max(64)
        .refine((s) => s === 'Use same scheduler' || findScheduler(s) !== undefined, { error: (iss) => `unknown scheduler "${String(iss.input)}"` })
        .optional(),
      ad_use_noise_multiplier: z.boolean().optional(),
      ad_noise_multiplier: z.number().min(0.5).max(1.5).optional(),
      ad_use_clip_skip: z.boolean().optional(),
      ad_clip_skip: z.number().int().min(1).max(12).optional(),
      ad_restore_face: z.boolean().optional(),
      ad_controlnet_model: z.string().max(NAME_MAX).optional(),
      ad_controlnet_module: z.string().max(64).optional(),
      ad_controlnet_weight: unit01.optional(),
      ad_controlnet_guidance_start: unit01.optional(),
      ad_controlnet_guidance_end: unit01.optional(),
      /** A1111's `ad_bbox_sortby` setting, per unit here. */
      ad_bbox_sortby: z.enum(['None', 'Position (left to right)', 'Position (center to edge)', 'Area (large to small)']).optional(),
      /** Sent by ADetailer's API clients; no effect. */
      is_api: z.boolean().optional(),
    })
    .strict();
}

export type AdetailerUnitInput = z.input<ReturnType<typeof adetailerUnitSchema>>;

/**
 * The first option of these units that Easel refuses with `not_implemented` (`ad_restore_face`,
 * ADetailer ControlNet), with its field path under `path` (`adetailer.0.ad_restore_face`), so the
 * socket, REST and /sdapi refuse it up front with the engine's own words.
 */
export function refusedUnitOption(units: readonly Partial<ADetailerArgs>[] | undefined, path: string): { field: string; option: string; message: string } | undefined {
  for (const [i, u] of (units ?? []).entries()) {
    const r = unsupportedOption(u);
    if (r) return { field: `${path}.${i}.${r.field}`, option: r.field, message: r.message };
  }
  return undefined;
}

// GenerationParams: the payload of `generate`, with DESIGN.md section 3 / A1111 field names.
// Validates at the edge with "expected vs got" messages and normalises sampler names to ids, so
// the queue, the store and the engine only ever see one spelling. zod only (web imports this).
import { z } from 'zod';
import { resolveSampler, findScheduler, type SamplerId, type SchedulerId } from '../../native/sampling/names.js';
import { DEFAULT_IMAGE_LIMITS, imageInputSchema, type ImageLimits } from './image-input.js';
import { adetailerUnitSchema } from './adetailer.js';
import { controlNetUnitsSchema, requireControlImages } from './controlnet.js';
import { enhanceSettingsFields } from './enhance.js';

export interface GenerationLimits extends ImageLimits {
  maxPromptChars: number;
  /** Largest width or height, in pixels. */
  maxSide: number;
  minSide: number;
  maxBatchSize: number;
  maxIter: number;
  maxSteps: number;
  maxLoras: number;
}

export const DEFAULT_GENERATION_LIMITS: GenerationLimits = {
  ...DEFAULT_IMAGE_LIMITS,
  maxPromptChars: 10_000,
  maxSide: 2048,
  minSide: 64,
  maxBatchSize: 8,
  maxIter: 100,
  maxSteps: 150,
  maxLoras: 7,
};

export const TASKS = ['txt2img', 'img2img', 'inpaint'] as const;
export type Task = (typeof TASKS)[number];

export const MAX_SEED = 4294967295;
const NAME_MAX = 256;

/** A model/LoRA/VAE reference: a registry name, never a path. */
export const modelNameSchema = z
  .string()
  .min(1)
  .max(NAME_MAX)
  .refine((s) => !/[\\\0:]/.test(s) && !s.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'), 'must be a model name, not a path');

function sideSchema(limits: GenerationLimits, fallback: number) {
  return z
    .number()
    .int()
    .refine((v) => v % 8 === 0, { error: (iss) => `must be a multiple of 8, got ${String(iss.input)}` })
    .refine((v) => v >= limits.minSide && v <= limits.maxSide, {
      error: (iss) => `must be between ${limits.minSide} and ${limits.maxSide}, got ${String(iss.input)}`,
    })
    .default(fallback);
}

const samplerNameSchema = z
  .string()
  .max(64)
  .refine((s) => resolveSampler(s) !== undefined, { error: (iss) => `unknown sampler "${String(iss.input)}"` });

const schedulerNameSchema = z
  .string()
  .max(64)
  .refine((s) => findScheduler(s) !== undefined, { error: (iss) => `unknown scheduler "${String(iss.input)}"` });

/** The plain object of GenerationParams fields, before cross-field checks and normalisation. */
export function generationFields(limits: GenerationLimits = DEFAULT_GENERATION_LIMITS) {
  const image = imageInputSchema(limits);
  const prompt = z.string().max(limits.maxPromptChars, `must be at most ${limits.maxPromptChars} characters`);
  const lora = z.object({ name: modelNameSchema, weight: z.number().min(-10).max(10).default(1) }).strict();
  // Hires fix: A1111's enable_hr / hr_* fields (docs/engine-hires.md). 0 and '' mean "unset" as in
  // A1111; `upscaler` unset runs "Latent" without writing `Hires upscaler` into the infotext.
  const hires = z
    .object({
      enabled: z.boolean().default(true),
      scale: z.number().min(1).max(4).default(2),
      upscaler: z.string().min(1).max(NAME_MAX).optional(),
      steps: z.number().int().min(0).max(limits.maxSteps).default(0),
      denoising_strength: z.number().gt(0).max(1).default(0.7),
      width: z.number().int().min(0).max(limits.maxSide * 4).default(0),
      height: z.number().int().min(0).max(limits.maxSide * 4).default(0),
      sampler: samplerNameSchema.optional(),
      scheduler: schedulerNameSchema.optional(),
      prompt: prompt.optional(),
      negative_prompt: prompt.optional(),
      save_first_pass: z.boolean().default(false),
    })
    .strict();
  const adetailer = adetailerUnitSchema(limits);

  return z
    .object({
      task: z.enum(TASKS).default('txt2img'),
      prompt: prompt.default(''),
      negative_prompt: prompt.default(''),
      model: modelNameSchema.optional(),
      width: sideSchema(limits, 512),
      height: sideSchema(limits, 512),
      steps: z.number().int().min(1).max(limits.maxSteps).default(20),
      cfg_scale: z.number().min(0).max(30).default(7),
      sampler: samplerNameSchema.default('euler_a'),
      scheduler: schedulerNameSchema.optional(),
      seed: z
        .number()
        .int()
        .refine((v) => v === -1 || (v >= 0 && v <= MAX_SEED), { error: (iss) => `must be -1 or 0..${MAX_SEED}, got ${String(iss.input)}` })
        .default(-1),
      subseed: z.number().int().min(-1).max(MAX_SEED).optional(),
      subseed_strength: z.number().min(0).max(1).optional(),
      batch_size: z.number().int().min(1).max(limits.maxBatchSize).default(1),
      n_iter: z.number().int().min(1).max(limits.maxIter).default(1),
      image: image.optional(),
      mask: image.optional(),
      strength: z.number().min(0).max(1).default(0.75),
      mask_blur: z.number().int().min(0).max(64).default(4),
      inpaint_full_res: z.boolean().default(false),
      inpaint_full_res_padding: z.number().int().min(0).max(256).default(32),
      /** A1111 inpainting_fill by name (the UI default, "original", is A1111's 1). */
      inpainting_fill: z.enum(['fill', 'original', 'latent_noise', 'latent_nothing']).default('original'),
      inpainting_mask_invert: z.boolean().default(false),
      /** A1111 img2img initial_noise_multiplier (img2img/inpaint; unset = 1.0, A1111's default option). */
      initial_noise_multiplier: z.number().min(0).max(2).optional(),
      /** A1111 resize_mode for the init image: 0 just resize, 1 crop and resize, 2 resize and fill. */
      resize_mode: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
      loras: z.array(lora).max(limits.maxLoras, `at most ${limits.maxLoras} LoRAs`).default([]),
      clip_skip: z.number().int().min(1).max(12).default(1),
      vae: modelNameSchema.optional(),
      hires: hires.optional(),
      controlnet: controlNetUnitsSchema(limits).optional(),
      adetailer: z.array(adetailer).max(4).optional(),
      restore_faces: z.boolean().default(false),
      /** Expand the prompt with a GPT-2 prompt expander before encoding: true, or the expansion's settings. */
      enhance_prompt: z
        .union([z.boolean(), z.object({ enabled: z.boolean().optional(), ...enhanceSettingsFields() }).strict()])
        .optional(),
      rng: z.enum(['cpu', 'nv']).default('nv'),
    })
    .strict();
}

type GenerationFields = z.output<ReturnType<typeof generationFields>>;

/** Adds the cross-field rules and turns sampler spellings into ids (legacy names imply a scheduler). */
export function finishGenerationSchema<S extends z.ZodType<GenerationFields>>(fields: S) {
  return fields
    .superRefine((p, ctx) => {
      if ((p.task === 'img2img' || p.task === 'inpaint') && !p.image) {
        ctx.addIssue({ code: 'custom', path: ['image'], message: `is required for task ${p.task}` });
      }
      if (p.task === 'inpaint' && !p.mask) ctx.addIssue({ code: 'custom', path: ['mask'], message: 'is required for task inpaint' });
      if (p.initial_noise_multiplier !== undefined && p.initial_noise_multiplier !== 1 && p.task === 'txt2img') {
        ctx.addIssue({ code: 'custom', path: ['initial_noise_multiplier'], message: 'is for img2img and inpaint only' });
      }
      if (p.hires?.enabled && p.task !== 'txt2img') ctx.addIssue({ code: 'custom', path: ['hires'], message: `hires fix is for txt2img only, got task ${p.task}` });
      requireControlImages(p, ctx);
    })
    .transform((p) => {
      const resolved = resolveSampler(p.sampler)!;
      // An explicit scheduler wins over one implied by a legacy combined name ("DPM++ 2M Karras").
      const scheduler: SchedulerId = p.scheduler ? findScheduler(p.scheduler)!.id : (resolved.scheduler?.id ?? 'automatic');
      const sampler: SamplerId = resolved.sampler.id;
      // The hires sampler/scheduler are normalised the same way (a legacy name sets the hires scheduler).
      const hrSampler = p.hires?.sampler ? resolveSampler(p.hires.sampler)! : undefined;
      const hires = p.hires && {
        ...p.hires,
        sampler: hrSampler?.sampler.id,
        scheduler: p.hires.scheduler ? findScheduler(p.hires.scheduler)!.id : hrSampler?.scheduler?.id,
      };
      return { ...p, sampler, scheduler, ...(hires ? { hires } : {}) };
    });
}

export function makeGenerationParamsSchema(limits: GenerationLimits = DEFAULT_GENERATION_LIMITS) {
  return finishGenerationSchema(generationFields(limits));
}

export const GenerationParamsSchema = makeGenerationParamsSchema();
/** What the client sends (sampler as any accepted spelling, most fields optional). */
export type GenerationParamsInput = z.input<typeof GenerationParamsSchema>;
/** What the server works with after validation (defaults filled, sampler/scheduler as ids). */
export type GenerationParams = z.output<typeof GenerationParamsSchema>;

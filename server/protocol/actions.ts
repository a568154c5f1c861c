// Payload schemas and ack result types of every client-to-server action (DESIGN.md section 3).
// Every object is `.strict()`: an unknown field is an error naming that field. zod only.
import { z } from 'zod';
import { DEFAULT_GENERATION_LIMITS, finishGenerationSchema, generationFields, type GenerationLimits } from './generation.js';
import { imageInputSchema } from './image-input.js';
import { adetailerUnitSchema } from './adetailer.js';
import { enhanceSettingsFields } from './enhance.js';
import { preprocessSchema } from './controlnet.js';
import { DeleteImagesSchema, GalleryQuerySchema, UpdateImageSchema, type GalleryImage } from './gallery.js';
import type { JobSummary } from './jobs.js';
import type { DriveStatusEvent } from './events.js';

export const MODEL_TYPES = ['checkpoint', 'lora', 'vae', 'embedding', 'controlnet', 'upscaler', 'detector', 'prompt_expander', 'vae_approx'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** Sources `download_model` takes: an https URL, `hf:owner/repo[@rev]/path[@rev]` (or `hf:owner/repo` for a tokenizer), `civitai:<versionId>`. */
export const DOWNLOAD_SOURCE_PATTERN = /^(https:\/\/\S+|hf:[\w.-]+\/[\w.-]+(@[\w.-]+)?(\/\S+)?|civitai:\d+)$/;

/** Job and image ids are short URL-safe strings; bound them so junk never reaches a query. */
export const idSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be an id (letters, digits, _ and -)');
const priority = z.number().int().min(-10).max(10).default(0);
/** Actions that take no arguments still accept `{}` (or nothing at all). */
const empty = z.object({}).strict().optional();

function enhancePromptSchema(limits: GenerationLimits) {
  return z
    .object({
      /** May be empty: the model then writes a prompt from scratch. */
      prompt: z.string().max(limits.maxPromptChars),
      /** Client-chosen id: `enhance:partial` events carry it and `cancel_enhance` takes it. */
      request_id: idSchema.optional(),
      ...enhanceSettingsFields(),
    })
    .strict();
}

export function makeActionSchemas(limits: GenerationLimits = DEFAULT_GENERATION_LIMITS) {
  const image = imageInputSchema(limits);
  const oneImage = (v: { image_id?: string | undefined; image?: Uint8Array | undefined }, ctx: z.RefinementCtx): void => {
    if ((v.image_id === undefined) === (v.image === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['image_id'], message: 'give exactly one of image_id or image' });
    }
  };
  return {
    // The generation params plus queue placement; priority is not a generation parameter.
    generate: finishGenerationSchema(generationFields(limits).extend({ priority })),
    cancel: z.object({ job_id: idSchema }).strict(),
    upscale: z
      .object({
        image_id: idSchema.optional(),
        image: image.optional(),
        upscaler: z.string().min(1).max(256),
        scale: z.number().min(1).max(8).default(2),
        // Extras "Scale to": both or neither; when given they win over scale.
        width: z.number().int().min(1).max(16384).optional(),
        height: z.number().int().min(1).max(16384).optional(),
        // A1111's ESRGAN_tile / ESRGAN_tile_overlap for this request (0 = untiled).
        tile: z.number().int().min(0).max(2048).optional(),
        overlap: z.number().int().min(0).max(512).optional(),
        priority,
      })
      .strict()
      .superRefine(oneImage)
      .superRefine((v, ctx) => {
        if ((v.width === undefined) !== (v.height === undefined)) ctx.addIssue({ code: 'custom', path: ['width'], message: 'give both width and height' });
        if (v.tile !== undefined && v.overlap !== undefined && v.tile > 0 && v.overlap >= v.tile) {
          ctx.addIssue({ code: 'custom', path: ['overlap'], message: 'overlap must be smaller than the tile' });
        }
      }),
    adetailer: z
      .object({
        image_id: idSchema.optional(),
        image: image.optional(),
        /** ADetailer tabs (`ad_model`, `ad_prompt`, `ad_confidence`, ...), run in order. */
        units: z.array(adetailerUnitSchema(limits)).min(1).max(4),
        /** The source's own parameters (read from its infotext when omitted). */
        prompt: z.string().max(limits.maxPromptChars).optional(),
        negative_prompt: z.string().max(limits.maxPromptChars).optional(),
        model: z.string().min(1).max(256).optional(),
        steps: z.number().int().min(1).max(limits.maxSteps).optional(),
        cfg_scale: z.number().min(0).max(30).optional(),
        sampler: z.string().max(64).optional(),
        scheduler: z.string().max(64).optional(),
        seed: z.number().int().min(-1).max(4294967295).optional(),
        priority,
      })
      .strict()
      .superRefine(oneImage),
    enhance_prompt: enhancePromptSchema(limits),
    /** A ControlNet preprocessor preview: the hint PNG of one image (the PWA's "Preview"). */
    preprocess: preprocessSchema(limits).superRefine(oneImage),
    /** Stops a running `enhance_prompt` (its ack then answers `cancelled`). */
    cancel_enhance: z.object({ request_id: idSchema }).strict(),
    download_model: z
      .object({
        source: z
          .string()
          .max(2048)
          .regex(DOWNLOAD_SOURCE_PATTERN, 'must be an https URL, hf:owner/repo/path or civitai:<versionId>')
          // `..` in an hf: owner, repo, revision or path would climb out of the repo's URL.
          .refine((s) => !s.startsWith('hf:') || !/(^hf:|[/@])\.\.?([/@]|$)|\.\.(?=[^/]*\/)/.test(s), 'must not contain . or .. parts'),
        /** `tokenizer` fetches a tokenizer repo's small files (source `hf:owner/repo`). */
        type: z.enum([...MODEL_TYPES, 'tokenizer']),
        filename: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[\w][\w .()+-]*\.(safetensors|ckpt|pt|pth|bin|onnx)$/, 'must be a plain file name with a model extension')
          .optional(),
        /** Expected sha256 (64 hex); the file is refused when it differs. */
        sha256: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
          .optional(),
        /** Hugging Face branch, tag or commit (default main). */
        revision: z
          .string()
          .regex(/^[\w.\/-]{1,128}$/, 'must be a branch, tag or commit')
          .refine((s) => !s.includes('..') && !s.split('/').includes('.'), 'must not contain . or .. parts')
          .optional(),
      })
      .strict(),
    cancel_download: z.object({ job_id: idSchema }).strict(),
    get_models: z
      .object({ type: z.enum(MODEL_TYPES).optional() })
      .strict()
      .optional(),
    /** The starter-model catalog (server/models/starter-models.json) with what this server can run. */
    get_starter_models: empty,
    get_gallery: GalleryQuerySchema.prefault({}),
    get_queue: empty,
    get_job: z.object({ job_id: idSchema }).strict(),
    update_image: UpdateImageSchema,
    delete_images: DeleteImagesSchema,
    // Google Drive backup (server/drive).
    drive_status: empty,
    /** Without `code`: answers the Google consent URL. With it: the code, or the whole URL the browser was sent to. */
    drive_connect: z
      .object({ code: z.string().min(1).max(4096).optional() })
      .strict()
      .optional(),
    drive_disconnect: empty,
    drive_sync: empty,
    drive_restore: empty,
  } as const;
}

export const ActionSchemas = makeActionSchemas();
export type ActionSchemas = ReturnType<typeof makeActionSchemas>;
export type ActionName = keyof ActionSchemas;
export const ACTION_NAMES = Object.keys(ActionSchemas) as ActionName[];

/** What a client may send for each action. */
export type ActionInput<A extends ActionName> = z.input<ActionSchemas[A]>;
/** What a handler receives after validation. */
export type ActionPayload<A extends ActionName> = z.output<ActionSchemas[A]>;

export interface ModelEntry {
  /** Registry name (relative path inside its folder), what `model`/`loras[].name` take. */
  name: string;
  type: ModelType;
  size_bytes: number;
  /** ISO time of the file's last change. */
  modified_at?: string;
  /** Full sha256 (hex); null while it is being computed (`hash_pending`). */
  sha256?: string | null;
  /** A1111 `Model hash` (AutoV2): first 10 hex of sha256. */
  short_hash?: string | null;
  /** A1111 `Lora hashes` value: 12 hex of the kohya "addnet" hash (or `sshs_model_hash`); LoRAs only. */
  lora_hash?: string | null;
  hash_pending?: boolean;
  /** From the safetensors keys: sd1, sd2, sd2-v, sdxl or unknown. */
  family?: string;
  /** What the file says about itself (safetensors `__metadata__`: kohya `ss_*`, `modelspec.*`). */
  metadata?: ModelFileMetadata;
}

export interface ModelFileMetadata {
  title?: string;
  /** Kohya `ss_output_name`. */
  output_name?: string;
  /** `ss_base_model_version` or `modelspec.architecture`. */
  base_model?: string;
  /** `ss_sd_model_name`: the checkpoint the LoRA was trained on. */
  trained_on?: string;
  /** Most frequent training tags (kohya `ss_tag_frequency`), best first. */
  trigger_words?: string[];
  resolution?: string;
  network?: { module?: string; dim?: number; alpha?: number };
  description?: string;
  author?: string;
}

/** One entry of the starter-model catalog as clients see it (docs/starter-models.md). */
export interface StarterModel {
  id: string;
  name: string;
  /** What it is for, in a sentence. */
  description: string;
  /** sd1, sdxl, upscaler, detector, gpt2, ... */
  family: string;
  /** The model type (folder) it lands in; what `download_model` takes as `type`. */
  type: string;
  /** What `download_model` takes as `source` (hf:, civitai: or https). */
  source: string;
  /** The file it lands as (absent for a whole-folder entry). */
  filename?: string;
  /** Expected sha256 when the catalog knows it (Hugging Face and Civitai sources bring their own). */
  sha256?: string;
  /** Approximate size, shown before downloading. */
  size_bytes: number;
  license: string;
  license_url?: string;
  /** The feature it enables ("Text to image", "Upscaling", ...). */
  feature: string;
  /** The worker capability it needs. */
  requires: string;
  /** Offered for download on this server; otherwise `unavailable_reason` says why in one line. */
  available: boolean;
  unavailable_reason?: string;
  /** Its file is already in the models folder. */
  installed: boolean;
  /** The first one to get. */
  recommended?: boolean;
}

/** The success part of each action's ack (the ack adds `ok: true`). */
export interface ActionResults {
  generate: { job_id: string; position: number };
  cancel: { job_id: string; status: 'cancelled' | 'cancelling' };
  upscale: { job_id: string; position: number };
  adetailer: { job_id: string; position: number };
  enhance_prompt: { request_id: string; prompts: string[]; model: string; seeds: Array<number | null> };
  /** The hint as PNG bytes (binary over Socket.IO), its size, and the slider values it ran with. */
  preprocess: { png: Uint8Array; mime: 'image/png'; width: number; height: number; info: Record<string, unknown> };
  cancel_enhance: { request_id: string; status: 'cancelling' };
  download_model: { job_id: string };
  cancel_download: { job_id: string; status: 'cancelling' };
  get_models: { models: ModelEntry[] };
  get_starter_models: { models: StarterModel[] };
  get_gallery: { items: GalleryImage[]; next_cursor: string | null };
  get_queue: { jobs: JobSummary[]; queued: number; running: string | null };
  get_job: { job: JobSummary };
  update_image: { image: GalleryImage };
  delete_images: { deleted: string[]; missing: string[] };
  drive_status: { status: DriveStatusEvent };
  /** `auth_url` when the flow starts: open it, approve, then send back the code. */
  drive_connect: { status: DriveStatusEvent; auth_url?: string };
  drive_disconnect: { status: DriveStatusEvent };
  /** `started` is false when a sync or restore was already running (it goes on). */
  drive_sync: { status: DriveStatusEvent; started: boolean };
  drive_restore: { status: DriveStatusEvent; started: boolean };
}

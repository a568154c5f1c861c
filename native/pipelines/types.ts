// What a generation asks for and what it gives back. Field names follow the Socket.IO protocol
// (A1111's snake_case) so the worker hands validated GenerationParams straight through.
import type { SamplerId, SchedulerId } from '../sampling/names.js';
import type { RngSource } from '../sampling/seeds.js';
import type { VaeFile } from '../vae/vae-file.js';
import type { Raster } from './image-ops.js';
import type { LivePreviewOptions } from './live-preview.js';

export type Task = 'txt2img' | 'img2img' | 'inpaint';

/** A1111 inpainting_fill, by name: 0 fill, 1 original, 2 latent noise, 3 latent nothing. */
export type MaskedContent = 'fill' | 'original' | 'latent_noise' | 'latent_nothing';

export interface GenerateRequest {
  task: Task;
  prompt: string;
  negative_prompt: string;
  width: number;
  height: number;
  steps: number;
  cfg_scale: number;
  sampler: SamplerId;
  scheduler: SchedulerId;
  /** −1 picks a random seed, reported in the result. */
  seed: number;
  batch_size: number;
  n_iter: number;
  rng: RngSource;
  clip_skip: number;
  /** Encoded PNG/JPEG/WebP bytes (img2img and inpaint). */
  image?: Uint8Array;
  /** Encoded mask: white (or opaque alpha) = repaint. */
  mask?: Uint8Array;
  strength?: number;
  mask_blur?: number;
  inpaint_full_res?: boolean;
  inpaint_full_res_padding?: number;
  inpainting_fill?: MaskedContent;
  inpainting_mask_invert?: boolean;
  /**
   * A1111 img2img `initial_noise_multiplier` (img2img and inpaint; unset = 1.0): the first noise
   * draw is scaled before the sampler adds it to the init latent, and `Noise multiplier` is written.
   */
  initial_noise_multiplier?: number;
  /** A1111 resize_mode for the init image: 0 just resize, 1 crop and resize, 2 resize and fill. */
  resize_mode?: 0 | 1 | 2;
  /** LoRAs besides the prompt's `<lora:…>` tags (same name twice: the weights add up). */
  loras?: { name: string; weight: number }[];
  /** Hires fix (txt2img only): upscale the first pass and run an img2img second pass (native/pipelines/hires.ts). */
  hires?: HiresOptions;
  /** ControlNet units (at most 3), sd-webui-controlnet's field names (native/controlnet/units.ts). */
  controlnet?: ControlNetUnitRequest[];
}

/**
 * One ControlNet unit as sd-webui-controlnet's API takes it. Omitted fields take the extension's
 * defaults; processor_res / threshold_a / threshold_b stay omitted (the infotext prints a default
 * `100` and a given `100.0` differently).
 */
export interface ControlNetUnitRequest {
  enabled?: boolean;
  /** Preprocessor name or label ("canny", "none", ...; native/controlnet/modules.ts). */
  module?: string;
  /** A ControlNet in `$MODELS_DIR/controlnet/`: `name [hash8]`, file name or stem. */
  model: string;
  weight?: number;
  /** Encoded control image (PNG/JPEG/WebP); img2img/inpaint fall back to the init image. */
  image?: Uint8Array;
  mask?: Uint8Array;
  resize_mode?: 'Just Resize' | 'Crop and Resize' | 'Resize and Fill';
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
  guidance_start?: number;
  guidance_end?: number;
  control_mode?: 'Balanced' | 'My prompt is more important' | 'ControlNet is more important';
  pixel_perfect?: boolean;
}

/** A1111 enable_hr and its hr_* fields, under the protocol's names (0 / '' / undefined = unset). */
export interface HiresOptions {
  enabled: boolean;
  /** hr_scale: target = int(width·scale) × int(height·scale) when width and height are 0. */
  scale: number;
  /** hr_resize_x / hr_resize_y (0 = unset). */
  width?: number;
  height?: number;
  /** hr_upscaler: a latent mode ("Latent", "Latent (bicubic)", ...), "None", "Lanczos", "Nearest" or an upscaler model name; unset = "Latent", not written to the infotext. */
  upscaler?: string | null;
  /** hr_second_pass_steps (0 = the first pass's steps). */
  steps?: number;
  denoising_strength: number;
  /** hr_sampler_name / hr_scheduler (unset = the first pass's). */
  sampler?: SamplerId;
  scheduler?: SchedulerId;
  /** hr_prompt / hr_negative_prompt ('' = the first pass's). */
  prompt?: string;
  negative_prompt?: string;
  /** Also return the first-pass image (A1111 "save images before highres fix"). */
  save_first_pass?: boolean;
}

/** A1111 images.resize_image(0, image, width, height, upscaler_name) for an image upscaler name. */
export type ImageUpscale = (image: Raster, upscaler: string, width: number, height: number, signal?: AbortSignal) => Promise<Raster>;

/** Files a generation may draw on besides the checkpoint (the worker resolves them under $MODELS_DIR). */
export interface GenerateResources {
  /** Path of a LoRA file by the name used in a tag or `loras`; throws code `lora_not_found`. */
  resolveLora?: (name: string) => string | Promise<string>;
  /** Folder of textual-inversion embeddings, used by file name in prompts. */
  embeddingsDir?: string;
  /** Override VAE (null/undefined: the checkpoint's own). */
  vae?: VaeFile | null;
  /** Hires fix with an image upscaler: resize through it, and whether a model name exists. */
  upscaleImage?: ImageUpscale;
  hasUpscaler?: (name: string) => boolean;
  /** Live preview method, TAESD decoder and time budget (native/pipelines/live-preview.ts); default: auto, which without a TAESD decoder is the cheap projection. */
  preview?: LivePreviewOptions;
  /** Path of a ControlNet file (or diffusers folder) by a unit's `model`; throws code `controlnet_not_found`. */
  resolveControlNet?: (name: string) => string | Promise<string>;
}

export interface PipelineHooks {
  signal?: AbortSignal;
  /** Called after every sampler step; `step` counts over the whole job (all n_iter batches). */
  onProgress?: (step: number, total: number) => void;
  /** Preview cadence in steps (0 = none). */
  previewEvery?: number;
  onPreview?: (step: number, jpeg: Uint8Array) => void;
  /** Called when the run enters a phase (prompt and init-image encoding, sampling, VAE decoding). */
  onPhase?: (phase: 'encoding' | 'sampling' | 'decoding') => void;
  /** ControlNet: the residuals added at every denoiser call of a pass (null: no unit active) and the units that ran, for tests. */
  onControlNetResiduals?: (call: number, residuals: readonly Float32Array[] | null, units: readonly number[]) => void;
}

export interface GeneratedImage {
  rgb: Raster;
  seed: number;
  /** The hires fix's first-pass image (returned before its final image when save_first_pass is on). */
  firstPass?: boolean;
}

/** The parameters a run actually used, for the infotext (A1111 labels where A1111 writes labels). */
export interface EffectiveParams {
  prompt: string;
  negative_prompt: string;
  /** Prompt with `<lora:…>` tags removed (what the text encoder saw). */
  prompt_for_model: string;
  loras: { name: string; weight: number }[];
  /** `Lora hashes`: name as written → 12-hex addnet hash. */
  lora_hashes: { name: string; hash: string }[];
  /** `TI hashes`: embeddings the prompts used → 12-hex sha256. */
  ti_hashes: { name: string; hash: string }[];
  /** Override VAE file name and 10-hex hash (absent: the checkpoint's VAE). */
  vae?: string;
  vae_hash?: string;
  seed: number;
  all_seeds: number[];
  steps: number;
  sampler: SamplerId;
  sampler_label: string;
  scheduler: SchedulerId;
  scheduler_label: string;
  cfg_scale: number;
  width: number;
  height: number;
  clip_skip: number;
  rng: RngSource;
  denoising_strength?: number;
  /** A1111 extra_generation_params in insertion order (Mask blur, Inpaint area, ...). */
  extra: [string, string | number][];
  /** Hires fix: the final image size (`width`/`height` stay the first pass's, as A1111's `Size`). */
  hires?: { width: number; height: number };
}

export interface GenerateResult {
  images: GeneratedImage[];
  params: EffectiveParams;
}

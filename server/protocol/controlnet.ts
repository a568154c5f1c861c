// The ControlNet unit on the wire: sd-webui-controlnet v1.1.455's own field names and defaults
// (internal_controlnet/args.py), so an A1111 `alwayson_scripts.controlnet.args` dict validates as
// it is. `generate.controlnet[]` takes up to three. Enums accept the extension's names and the
// API's ints and come out as names; processor_res and the thresholds stay omitted when omitted
// (the infotext prints a default `100` and a given `100.0` differently). What needs the model
// folder or the module table (unknown model, unavailable module, family) is checked by
// server/controlnet/unit-check.ts. zod only (web imports this).
import { z } from 'zod';
import type { ImageLimits } from './image-input.js';
import { imageInputSchema } from './image-input.js';
import { resizeModeFromApi } from '../../native/controlnet/modules.js';

export const MAX_CONTROLNET_UNITS = 3;

export const RESIZE_MODES = ['Just Resize', 'Crop and Resize', 'Resize and Fill'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];
export const CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];

/** A name (or, through `byName`, an alias) or the API's int → the name; anything else is an issue listing the choices. */
function enumByNameOrIndex<T extends string>(names: readonly T[], byName: (v: string) => T | undefined = (v) => (names.includes(v as T) ? (v as T) : undefined)) {
  return z.union([z.string(), z.number()]).transform((v, ctx): T => {
    const found = typeof v === 'number' ? (Number.isInteger(v) ? names[v] : undefined) : byName(v);
    if (found !== undefined) return found;
    ctx.addIssue({ code: 'custom', message: `must be one of ${names.map((n, i) => `"${n}" (${i})`).join(', ')}, got ${JSON.stringify(v)}` });
    return z.NEVER;
  });
}

/** The extension's names and old aliases (modules.ts resizeModeFromApi), or the API's ints 0..2. */
const resizeModeByName = (v: string): ResizeMode | undefined => {
  try {
    return resizeModeFromApi(v);
  } catch {
    return undefined;
  }
};

export const resizeModeSchema = enumByNameOrIndex(RESIZE_MODES, resizeModeByName);
export const controlModeSchema = enumByNameOrIndex(CONTROL_MODES);

const NAME_MAX = 256;
const idRef = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be an id (letters, digits, _ and -)');

/**
 * One ControlNet unit. `image` is base64 (data URL or bare, as the extension's API takes it) or
 * bytes; `image_id` names a gallery image instead. The extension's legacy `input_image` and
 * Forge's `mask_image` are accepted as `image` / `mask`.
 */
export function controlNetUnitSchema(limits: ImageLimits) {
  const image = imageInputSchema(limits);
  return z
    .object({
      enabled: z.boolean().default(true),
      module: z.string().min(1).max(64).default('none'),
      /** A name from GET /controlnet/model_list (`name [hash8]`), a file name, or its stem; "None" = no model. */
      model: z.string().min(1).max(NAME_MAX).default('None'),
      weight: z.number().min(0).max(2).default(1),
      image: image.optional(),
      /** Legacy name of `image` (the extension's API before v1.1.4xx). */
      input_image: image.optional(),
      /** A gallery image as the control image. */
      image_id: idRef.optional(),
      mask: image.optional(),
      mask_image: image.optional(),
      resize_mode: resizeModeSchema.default('Crop and Resize'),
      processor_res: z.number().int().min(-1).max(4096).optional(),
      threshold_a: z.number().min(-1e6).max(1e6).optional(),
      threshold_b: z.number().min(-1e6).max(1e6).optional(),
      guidance_start: z.number().min(0).max(1).default(0),
      guidance_end: z.number().min(0).max(1).default(1),
      control_mode: controlModeSchema.default('Balanced'),
      pixel_perfect: z.boolean().default(false),
      /** Accepted and ignored, as clients of the extension send them. */
      low_vram: z.boolean().optional(),
      save_detected_map: z.boolean().optional(),
    })
    .strict()
    .superRefine((u, ctx) => {
      if (u.image !== undefined && u.input_image !== undefined) ctx.addIssue({ code: 'custom', path: ['input_image'], message: 'give image or input_image, not both' });
      if ((u.image ?? u.input_image) !== undefined && u.image_id !== undefined) ctx.addIssue({ code: 'custom', path: ['image_id'], message: 'give image or image_id, not both' });
      if (u.mask !== undefined && u.mask_image !== undefined) ctx.addIssue({ code: 'custom', path: ['mask_image'], message: 'give mask or mask_image, not both' });
      if (u.guidance_start > u.guidance_end) {
        ctx.addIssue({ code: 'custom', path: ['guidance_start'], message: `must not be after guidance_end, got ${u.guidance_start} > ${u.guidance_end}` });
      }
    })
    .transform(({ input_image, mask_image, low_vram: _lv, save_detected_map: _sd, ...u }) => {
      const img = u.image ?? input_image;
      const mask = u.mask ?? mask_image;
      return { ...u, ...(img !== undefined ? { image: img } : {}), ...(mask !== undefined ? { mask } : {}) };
    });
}

export type ControlNetUnitInput = z.input<ReturnType<typeof controlNetUnitSchema>>;
export type ControlNetUnit = z.output<ReturnType<typeof controlNetUnitSchema>>;

/** `generate.controlnet`: at most three units. */
export function controlNetUnitsSchema(limits: ImageLimits) {
  return z.array(controlNetUnitSchema(limits)).max(MAX_CONTROLNET_UNITS, `at most ${MAX_CONTROLNET_UNITS} ControlNet units`);
}

/**
 * The extension's `choose_input_image`: a unit without an image uses the img2img/inpaint init image
 * (and, for inpaint modules, the request's mask); in txt2img there is nothing to fall back to, so
 * the unit's image is required ("controlnet is enabled but no input image is given").
 */
export function requireControlImages(
  p: { task: string; controlnet?: readonly { enabled: boolean; image?: unknown; image_id?: string | undefined }[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (p.task !== 'txt2img') return;
  p.controlnet?.forEach((u, i) => {
    if (u.enabled && u.image === undefined && u.image_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['controlnet', i, 'image'], message: 'is required in txt2img: give the unit an image (base64) or an image_id' });
    }
  });
}

/** The `preprocess` action: one image (bytes/base64, or a gallery image) through one module. */
export function preprocessSchema(limits: ImageLimits) {
  const image = imageInputSchema(limits);
  return z
    .object({
      module: z.string().min(1).max(64),
      image: image.optional(),
      image_id: idRef.optional(),
      mask: image.optional(),
      processor_res: z.number().int().min(-1).max(4096).optional(),
      threshold_a: z.number().min(-1e6).max(1e6).optional(),
      threshold_b: z.number().min(-1e6).max(1e6).optional(),
    })
    .strict();
}

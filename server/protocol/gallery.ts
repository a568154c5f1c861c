// Gallery wire contract: the query, update, delete and zip payloads (shared by the Socket.IO actions
// and the REST routes) and the `GalleryImage` every client sees. zod only: the web app imports it.
// Query values also arrive as URL query strings, so numbers and booleans accept their string forms.
import { z } from 'zod';

export const GALLERY_PAGE_DEFAULT = 50;
export const GALLERY_PAGE_MAX = 200;
export const GALLERY_BULK_MAX = 500;
const MAX_SEARCH_CHARS = 500;
const MAX_CURSOR_CHARS = 200;

/** Image ids: 16 random bytes in base64url (22 chars); bounded so junk never reaches a query. */
export const imageIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be an image id (letters, digits, _ and -)');

const boolish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);
const dimension = z.coerce.number().int().min(1).max(65535);
/** `YYYY-MM-DD` (whole UTC day) or a full ISO datetime. */
const dateOrDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const GalleryQuerySchema = z
  .object({
    task: z.string().min(1).max(32).optional(),
    model: z.string().min(1).max(256).optional(),
    favorite: boolish.optional(),
    /** Full-text search over prompt and negative prompt; words are ANDed, each a prefix. */
    search: z.string().max(MAX_SEARCH_CHARS).optional(),
    date_from: dateOrDateTime.optional(),
    /** Inclusive: a bare date includes that whole day. */
    date_to: dateOrDateTime.optional(),
    min_width: dimension.optional(),
    max_width: dimension.optional(),
    min_height: dimension.optional(),
    max_height: dimension.optional(),
    /** Opaque: the `next_cursor` of the previous page. */
    cursor: z.string().min(1).max(MAX_CURSOR_CHARS).optional(),
    limit: z.coerce.number().int().min(1).max(GALLERY_PAGE_MAX).default(GALLERY_PAGE_DEFAULT),
  })
  .strict();
export type GalleryQuery = z.output<typeof GalleryQuerySchema>;
export type GalleryQueryInput = z.input<typeof GalleryQuerySchema>;

export const UpdateImageSchema = z.object({ id: imageIdSchema, favorite: z.boolean().optional() }).strict();
export type UpdateImage = z.output<typeof UpdateImageSchema>;

export const DeleteImagesSchema = z.object({ ids: z.array(imageIdSchema).min(1).max(GALLERY_BULK_MAX) }).strict();
export type DeleteImages = z.output<typeof DeleteImagesSchema>;

export const ZipImagesSchema = z.object({ ids: z.array(imageIdSchema).min(1).max(GALLERY_BULK_MAX) }).strict();
export type ZipImages = z.output<typeof ZipImagesSchema>;

/** One gallery image as clients see it; `url`/`thumb_url` are signed and expire. */
export interface GalleryImage {
  id: string;
  job_id: string | null;
  /** ISO 8601, UTC. */
  created_at: string;
  task: string;
  prompt: string;
  negative_prompt: string;
  model: string;
  width: number;
  height: number;
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler: string;
  scheduler: string;
  favorite: boolean;
  infotext: string;
  url: string;
  thumb_url: string;
}

export interface GalleryPage {
  items: GalleryImage[];
  next_cursor: string | null;
}

/** `POST /api/png-info` body: base64 or a data URL, as A1111's /sdapi/v1/png-info takes. */
export const PngInfoRequestSchema = z.object({ image: z.string().min(1) }).strict();

/** `POST /api/png-info` answer: A1111's `{ info, items, parameters }` plus what ComfyUI/InvokeAI wrote. */
export interface PngInfoResponse {
  info: string;
  items: Record<string, string>;
  parameters: Record<string, string | number | boolean>;
  comfyui?: { prompt?: unknown; workflow?: unknown };
  invokeai?: { metadata?: unknown; workflow?: unknown; graph?: unknown; legacy?: string };
}

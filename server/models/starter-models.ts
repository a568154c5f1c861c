// The starter-model catalog: a curated list of models a newcomer can download in one tap
// (server/models/starter-models.json, or the file STARTER_MODELS names). Each entry says what it
// is for, its family, size, licence and source, and which worker capability it needs; an entry
// whose capability is not there yet, or whose model type this server cannot download yet, is
// listed but not offered, with a one-line reason. Downloads go through `download_model`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MODEL_TYPES, type ModelEntry, type StarterModel } from '../protocol/actions.js';
import { EaselError } from '../protocol/errors.js';

/** The catalog shipped with Easel. */
export const DEFAULT_STARTER_CATALOG = join(dirname(fileURLToPath(import.meta.url)), 'starter-models.json');

const SHA256 = /^[0-9a-f]{64}$/;
const MODEL_FILE = /^[\w][\w .()+-]*\.(safetensors|ckpt|pt|pth|bin|onnx)$/;
// Same forms as download_model, plus `hf:owner/repo` for whole-folder entries (`folder: true`).
const SOURCE = /^(https?:\/\/\S+|hf:[\w.-]+\/[\w.-]+(@[\w.-]+)?(\/\S+)?|civitai:\d+)$/;

const EntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and -'),
    name: z.string().min(1).max(100),
    description: z.string().min(1).max(400),
    family: z.string().min(1).max(32),
    /** A model type of the registry, (vae_approx, ...), or a folder kind other features add (prompt-expander). */
    type: z.string().regex(/^[a-z][a-z_-]{1,31}$/),
    source: z.string().regex(SOURCE, 'must be hf:owner/repo/path, civitai:<id> or an http(s) URL'),
    filename: z.string().regex(MODEL_FILE, 'must be a plain file name with a model extension').optional(),
    sha256: z.string().regex(SHA256, 'must be 64 lower-case hex digits').optional(),
    size_bytes: z.number().int().positive(),
    license: z.string().min(1).max(100),
    license_url: z.string().url().optional(),
    feature: z.string().min(1).max(100),
    /** The WorkerCapabilities flag that must be true (generate, sdxl, upscale, adetailer, enhance_prompt, ...). */
    requires: z.string().regex(/^[a-z_]{2,32}$/),
    /** The source is a whole repository folder, not one file. */
    folder: z.boolean().optional(),
    recommended: z.boolean().optional(),
  })
  .strict();

const CatalogSchema = z.object({ $comment: z.string().optional(), models: z.array(EntrySchema).min(1) }).strict();

export type StarterEntry = z.infer<typeof EntrySchema>;

/** What each capability flag is called in a "not yet" reason. */
const FEATURE_NAMES: Record<string, string> = {
  generate: 'image generation',
  sdxl: 'SDXL models',
  upscale: 'upscaling',
  adetailer: 'ADetailer',
  enhance_prompt: 'prompt enhancement',
  controlnet: 'ControlNet',
  hires: 'hires fix',
  taesd: 'TAESD live previews',
};

/** Types `download_model` takes today; a folder kind joins when its feature adds it. */
const DOWNLOAD_TYPES: readonly string[] = MODEL_TYPES;

/**
 * Reads and checks a catalog file; throws `invalid_params` naming the entry and field at fault.
 *
 * @example loadStarterCatalog().find((e) => e.id === 'sd15')?.source
 */
export function loadStarterCatalog(path: string = DEFAULT_STARTER_CATALOG): StarterEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EaselError('invalid_params', `starter catalog ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = CatalogSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EaselError('invalid_params', `starter catalog ${path}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const ids = new Set<string>();
  for (const e of parsed.data.models) {
    if (ids.has(e.id)) throw new EaselError('invalid_params', `starter catalog ${path}: id "${e.id}" appears twice`);
    ids.add(e.id);
  }
  return parsed.data.models;
}

/** The file name an entry lands as (null for a folder). */
export function starterFileName(entry: StarterEntry): string | null {
  if (entry.folder) return null;
  if (entry.filename) return entry.filename;
  // Civitai names the file only when asked (its API); the catalog gives `filename` for those.
  if (entry.source.startsWith('civitai:')) return null;
  const path = entry.source.replace(/[?#].*$/, '').replace(/@[\w.-]+$/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  // A URL that does not end in a model file name (an API download link) names no file.
  return MODEL_FILE.test(name) ? name : null;
}

/** Why an entry cannot be offered here (null: it can), in one line. */
export function unavailableReason(entry: StarterEntry, capabilities: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!capabilities) return 'the engine has not started; try again in a moment';
  if (capabilities[entry.requires] !== true) return `needs ${FEATURE_NAMES[entry.requires] ?? entry.requires}, which this server cannot run yet`;
  if (entry.folder || !DOWNLOAD_TYPES.includes(entry.type)) return `this server cannot download ${entry.type} models yet`;
  return null;
}

/**
 * The catalog as clients see it: each entry with `available` (offer a download) or its
 * `unavailable_reason`, and `installed` when the registry already lists its file.
 */
export function starterView(entries: readonly StarterEntry[], capabilities: Readonly<Record<string, unknown>> | undefined, installed: readonly ModelEntry[]): StarterModel[] {
  return entries.map((e) => {
    const reason = unavailableReason(e, capabilities);
    const file = starterFileName(e);
    const present = file !== null && installed.some((m) => m.type === e.type && (m.name === file || m.name.endsWith(`/${file}`)));
    const view: StarterModel = {
      id: e.id,
      name: e.name,
      description: e.description,
      family: e.family,
      type: e.type,
      source: e.source,
      size_bytes: e.size_bytes,
      license: e.license,
      feature: e.feature,
      requires: e.requires,
      available: reason === null,
      installed: present,
    };
    if (file) view.filename = file;
    if (e.sha256) view.sha256 = e.sha256;
    if (e.license_url) view.license_url = e.license_url;
    if (e.recommended) view.recommended = true;
    if (reason) view.unavailable_reason = reason;
    return view;
  });
}

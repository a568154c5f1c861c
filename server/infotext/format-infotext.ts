// The infotext writer: AUTOMATIC1111's `processing.create_infotext` (COMPAT.md 1.5), plus the
// `, Hashes: {json}` suffix that the Civitai A1111 extension appends after `Version` (COMPAT.md 1.6)
// so Civitai links the model and LoRAs. Field names follow the A1111 API / GenerationParams names,
// so the job runner can pass its effective parameters almost as they are.
import { findScheduler, resolveSampler } from '../../native/sampling/names.js';

/** A value A1111 keeps in its generation_params dict; undefined/null are dropped like Python None. */
export type InfotextValue = string | number | boolean | null | undefined;

export interface InfotextHash {
  /** The name as written in the prompt (`<lora:NAME:1>`) or the embedding name. */
  name: string;
  /** LoRA: 12-hex addnet shorthash; TI: 12-hex shorthash. */
  hash: string;
}

export interface InfotextParams {
  prompt: string;
  negative_prompt?: string;
  steps: number;
  /** Easel id (`dpmpp_2m`), A1111 label or alias; written as the A1111 label. */
  sampler: string;
  /** Easel id or label; `automatic` is written as the sampler's default when A1111 would resolve one. */
  scheduler?: string;
  cfg_scale: number;
  image_cfg_scale?: number;
  seed: number;
  face_restoration?: string;
  width: number;
  height: number;
  /** 10-hex AutoV2 (sha256 of the file, first 10 hex). */
  model_hash?: string;
  model?: string;
  vae_hash?: string;
  vae?: string;
  variation_seed?: number;
  variation_seed_strength?: number;
  seed_resize_from?: { width: number; height: number };
  denoising_strength?: number;
  conditional_mask_weight?: number;
  /** Written only when > 1, as A1111 does. */
  clip_skip?: number;
  /** Eta noise seed delta; written only when non-zero. */
  ensd?: number;
  token_merging_ratio?: number;
  init_image_hash?: string;
  /** `nv` is A1111's GPU/NV source (no key written); `cpu` writes `RNG: CPU`. */
  rng?: 'nv' | 'cpu';
  tiling?: boolean;
  /**
   * A1111's `extra_generation_params`, in insertion order (hires, inpaint, ADetailer, ...), put
   * where A1111's processing adds them: `ADetailer ...` first, hires/inpaint keys next, then the
   * LoRA/TI hashes, then the rest (`Emphasis`, `Noise multiplier`, `Discard penultimate sigma`, unknown).
   */
  extra?: ReadonlyArray<readonly [string, InfotextValue]>;
  loras?: readonly InfotextHash[];
  embeddings?: readonly InfotextHash[];
  /** Defaults to `Easel v<version>`. */
  version?: string;
  user?: string;
  /** Append Civitai's `Hashes:` JSON (default true when any hash is known). */
  civitai_hashes?: boolean;
  /**
   * Write the float fields (CFG scale, Denoising strength) as Python prints a float (`7.0`), as
   * A1111's API does (its UI sends whole numbers and writes `7`). Default false.
   */
  python_floats?: boolean;
}

export const DEFAULT_INFOTEXT_VERSION = 'Easel v0.1.0';

// A1111 v1.10 process_images_inner fills extra_generation_params in this order: scripts' process()
// hook (ADetailer's keys), then p.init() (hires fix, inpainting), then per batch the extra networks
// (Lora hashes), the conditioning (TI hashes, Emphasis) and p.sample() (`Noise multiplier`); keys
// of anything else (sigma overrides, unknown scripts) keep their insertion order after the hashes.
// ControlNet writes its units from its process() hook too (sd-webui-controlnet scripts/controlnet.py).
const FROM_PROCESS_HOOK = /^(ADetailer |ControlNet \d)/;
const BEFORE_HASHES = /^(Hires |Mask blur|Inpaint area|Masked area padding|Masked content|Mask mode)/;

/**
 * A1111's `infotext_utils.quote`: JSON-quote (without ASCII escaping) when the value holds `,`, `\n` or `:`.
 *
 * @example quote('a, b') // '"a, b"'
 */
export function quote(text: string): string {
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  return JSON.stringify(text);
}

/** Python's `str()` of the values A1111 stores: True/False, and numbers without a trailing `.0` for ints. */
function pyStr(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** Python's `json.dumps` with its defaults (`, ` / `: ` separators, ASCII-only output). */
export function pythonJsonDumps(value: Record<string, string>): string {
  const ascii = (s: string): string =>
    JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return '{' + Object.entries(value).map(([k, v]) => `${ascii(k)}: ${ascii(v)}`).join(', ') + '}';
}

function samplerLabel(sampler: string): string {
  return resolveSampler(sampler)?.sampler.label ?? sampler;
}

function scheduleTypeLabel(sampler: string, scheduler: string | undefined): string {
  const resolved = resolveSampler(sampler);
  const given = scheduler ? findScheduler(scheduler) : resolved?.scheduler;
  if (given && given.id !== 'automatic') return given.label;
  if (!given && scheduler) return scheduler;
  // A1111 resolves Automatic to the sampler's `scheduler` option when it has one (karras,
  // exponential); samplers without one keep the label "Automatic".
  const def = resolved?.sampler.defaultScheduler;
  if (def && def !== 'uniform') return findScheduler(def)?.label ?? 'Automatic';
  return 'Automatic';
}

/** `name: hash, name: hash` with `:` and `,` stripped from names, as A1111's lora/TI scripts write it. */
function hashList(items: readonly InfotextHash[]): string {
  return items.map((i) => `${i.name.replace(/[:,]/g, '')}: ${i.hash}`).join(', ');
}

/**
 * The exact A1111 infotext for one image.
 *
 * @example
 * formatInfotext({ prompt: 'a cat', steps: 20, sampler: 'dpmpp_2m', scheduler: 'karras', cfg_scale: 7,
 *   seed: 1, width: 512, height: 512, model: 'v1-5', model_hash: '6ce0161689' })
 * // 'a cat\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512,
 * //  Model hash: 6ce0161689, Model: v1-5, Version: Easel v0.1.0, Hashes: {"model": "6ce0161689"}'
 */
export function formatInfotext(p: InfotextParams): string {
  const float = (v: number | undefined): number | string | undefined => (p.python_floats && v !== undefined && Number.isInteger(v) ? v.toFixed(1) : v);
  const params: Array<readonly [string, InfotextValue]> = [
    ['Steps', p.steps],
    ['Sampler', samplerLabel(p.sampler)],
    ['Schedule type', scheduleTypeLabel(p.sampler, p.scheduler)],
    ['CFG scale', float(p.cfg_scale)],
    ['Image CFG scale', p.image_cfg_scale],
    ['Seed', p.seed],
    ['Face restoration', p.face_restoration],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.model_hash],
    ['Model', p.model],
    ['VAE hash', p.vae_hash],
    ['VAE', p.vae],
    ['Variation seed', p.variation_seed_strength ? p.variation_seed : undefined],
    ['Variation seed strength', p.variation_seed_strength || undefined],
    ['Seed resize from', p.seed_resize_from && p.seed_resize_from.width > 0 && p.seed_resize_from.height > 0 ? `${p.seed_resize_from.width}x${p.seed_resize_from.height}` : undefined],
    ['Denoising strength', float(p.denoising_strength)],
    ['Conditional mask weight', p.conditional_mask_weight],
    ['Clip skip', p.clip_skip !== undefined && p.clip_skip > 1 ? p.clip_skip : undefined],
    ['ENSD', p.ensd ? p.ensd : undefined],
    ['Token merging ratio', p.token_merging_ratio || undefined],
    ['Init image hash', p.init_image_hash],
    ['RNG', p.rng === 'cpu' ? 'CPU' : undefined],
    ['Tiling', p.tiling ? 'True' : undefined],
  ];
  const extra = p.extra ?? [];
  params.push(...extra.filter(([k]) => FROM_PROCESS_HOOK.test(k)));
  params.push(...extra.filter(([k]) => BEFORE_HASHES.test(k)));
  if (p.loras?.length) params.push(['Lora hashes', hashList(p.loras)]);
  if (p.embeddings?.length) params.push(['TI hashes', hashList(p.embeddings)]);
  params.push(...extra.filter(([k]) => !FROM_PROCESS_HOOK.test(k) && !BEFORE_HASHES.test(k)));
  params.push(['Version', p.version ?? DEFAULT_INFOTEXT_VERSION], ['User', p.user]);

  const line = params
    .filter((kv): kv is readonly [string, string | number | boolean] => kv[1] !== undefined && kv[1] !== null)
    .map(([k, v]) => (k === pyStr(v) ? k : `${k}: ${quote(pyStr(v))}`))
    .join(', ');

  const civitai = civitaiHashes(p);
  const suffix = civitai && p.civitai_hashes !== false ? `, Hashes: ${pythonJsonDumps(civitai)}` : '';
  const negative = p.negative_prompt ? `\nNegative prompt: ${p.negative_prompt}` : '';
  // A1111 strips the whole text, so a prompt's leading whitespace never survives either.
  return `${p.prompt}${negative}\n${line}${suffix}`.trim();
}

/** The `Hashes:` object the Civitai extension writes: model, vae, `lora:<name>`, `embed:<name>`. */
function civitaiHashes(p: InfotextParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (p.model_hash) out.model = p.model_hash;
  if (p.vae_hash) out.vae = p.vae_hash;
  for (const l of p.loras ?? []) out[`lora:${l.name}`] = l.hash;
  for (const e of p.embeddings ?? []) out[`embed:${e.name}`] = e.hash;
  return Object.keys(out).length ? out : undefined;
}

// The infotext reader: AUTOMATIC1111's `infotext_utils.parse_generation_parameters` (COMPAT.md 1.5),
// giving the same dict A1111's /sdapi/v1/png-info returns as `parameters`, plus typed fields that
// map back to Easel's generation parameters. Civitai's `, Hashes: {json}` suffix is lifted out
// first (as Civitai's own reader does) instead of being cut into junk keys by `re_param`.
import { findScheduler, resolveSampler, type SamplerId, type SchedulerId } from '../../native/sampling/names.js';
import type { InfotextHash } from './format-infotext.js';
import { adetailerFromInfotext, type ADetailerArgs } from '../../native/adetailer/args.js';
import { controlNetFromInfotext, type InfotextControlUnit } from '../../native/controlnet/infotext.js';

export type InfotextFieldValue = string | number | boolean;

export interface ParsedInfotext {
  prompt: string;
  negative_prompt: string;
  /** A1111's dict: `Prompt`, `Negative prompt`, every key (values as strings), `Size-1/Size-2`, injected defaults. */
  fields: Record<string, InfotextFieldValue>;
  /** Civitai's `Hashes:` JSON (model, vae, `lora:<name>`, `embed:<name>`), when present. */
  hashes?: Record<string, string>;
  steps?: number;
  /** Resolved Easel sampler id; undefined when the name is not one Easel runs. */
  sampler?: SamplerId;
  /** From `Schedule type`, or the suffix of a legacy combined name ("DPM++ 2M Karras"). */
  scheduler: SchedulerId;
  cfg_scale?: number;
  seed?: number;
  width?: number;
  height?: number;
  model?: string;
  model_hash?: string;
  clip_skip: number;
  denoising_strength?: number;
  /** A1111 img2img `Noise multiplier` (GenerationParams.initial_noise_multiplier); absent = 1.0. */
  initial_noise_multiplier?: number;
  loras: InfotextHash[];
  embeddings: InfotextHash[];
  version?: string;
  /** ADetailer tabs from its `ADetailer ...` keys (" 2nd", " 3rd" suffixes), defaults filled in. */
  adetailer: ADetailerArgs[];
  /** ControlNet units from the `ControlNet <i>` keys (without their images). */
  controlnet: InfotextControlUnit[];
  /** The hires fix, under GenerationParams.hires names, when the infotext has one. */
  hires?: ParsedHires;
}

/** GenerationParams.hires as an infotext describes it (A1111's Hires upscale/resize/steps/upscaler/sampler/...). */
export interface ParsedHires {
  enabled: true;
  scale: number;
  width: number;
  height: number;
  /** Absent: A1111's default ("Latent"), not written. */
  upscaler?: string;
  steps: number;
  denoising_strength?: number;
  sampler?: SamplerId;
  scheduler?: SchedulerId;
  prompt: string;
  negative_prompt: string;
}

// re_param from A1111; Python's \w is Unicode-aware, so the JS version spells it out with \p{..}.
const W = '[\\p{L}\\p{N}\\p{Mn}\\p{Pc}]';
const RE_PARAM = new RegExp(`\\s*(${W}[${W.slice(1, -1)} \\-/]+):\\s*("(?:\\\\.|[^\\\\"])+"|[^,]*)(?:,|$)`, 'gu');
const RE_IMAGESIZE = /^(\d+)x(\d+)$/;
const NEGATIVE_PREFIX = 'Negative prompt:';

function findParams(line: string): Array<[string, string]> {
  return [...line.matchAll(RE_PARAM)].map((m) => [m[1]!, m[2]!]);
}

/** A1111's `unquote`: JSON-decode a double-quoted value, leaving it as it is when that fails. */
function unquote(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : text;
  } catch {
    return text;
  }
}

/** Index just past the JSON object starting at `start` (a `{`), honouring strings; -1 if unbalanced. */
function jsonObjectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Lifts `Hashes: {json}` out of the parameters line; returns the rest of the line and the object. */
function extractCivitaiHashes(line: string): { line: string; hashes?: Record<string, string> } {
  const m = /(^|,\s*)Hashes:\s*\{/.exec(line);
  if (!m) return { line };
  const open = m.index + m[0].length - 1;
  const end = jsonObjectEnd(line, open);
  if (end < 0) return { line };
  try {
    const obj: unknown = JSON.parse(line.slice(open, end));
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { line };
    const hashes: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') hashes[k] = v;
    return { line: line.slice(0, m.index) + line.slice(end), hashes };
  } catch {
    return { line };
  }
}

/** A1111's `old_hires_fix_first_pass_dimensions`: the pre-1.0 hires fix aimed at 512x512 pixels. */
function oldHiresFirstPass(width: number, height: number): [number, number] {
  const scale = Math.sqrt((512 * 512) / (width * height));
  return [Math.ceil((scale * width) / 64) * 64, Math.ceil((scale * height) / 64) * 64];
}

/** A1111's `restore_old_hires_fix_params` (with `use_old_hires_fix_width_height` off, the default). */
function restoreOldHiresFix(res: Record<string, InfotextFieldValue>): void {
  const fw = res['First pass size-1'];
  const fh = res['First pass size-2'];
  if (fw === undefined || fh === undefined) return;
  let w = Number(fw);
  let h = Number(fh);
  const width = Number(res['Size-1'] ?? 512);
  const height = Number(res['Size-2'] ?? 512);
  if (w === 0 || h === 0) [w, h] = oldHiresFirstPass(width, height);
  res['Size-1'] = w;
  res['Size-2'] = h;
  res['Hires resize-1'] = width;
  res['Hires resize-2'] = height;
}

// Injected by A1111 when missing, in its order, so a pasted old infotext means what it meant then.
const DEFAULTS: ReadonlyArray<[string, InfotextFieldValue]> = [
  ['Hires sampler', 'Use same sampler'],
  ['Hires schedule type', 'Use same scheduler'],
  ['Hires checkpoint', 'Use same checkpoint'],
  ['Hires prompt', ''],
  ['Hires negative prompt', ''],
  ['Mask mode', 'Inpaint masked'],
  ['Masked content', 'original'],
  ['Inpaint area', 'Whole picture'],
  ['Masked area padding', 32],
];
const LATE_DEFAULTS: ReadonlyArray<[string, InfotextFieldValue]> = [
  ['RNG', 'GPU'],
  ['Schedule type', 'Automatic'],
  ['Schedule max sigma', 0],
  ['Schedule min sigma', 0],
  ['Schedule rho', 0],
  ['VAE Encoder', 'Full'],
  ['VAE Decoder', 'Full'],
  ['FP8 weight', 'Disable'],
];

/** A1111's `parse_generation_parameters` dict (with the default options). */
export function parseGenerationParameters(text: string): { fields: Record<string, InfotextFieldValue>; hashes?: Record<string, string> } {
  const res: Record<string, InfotextFieldValue> = {};
  let prompt = '';
  let negative = '';
  let doneWithPrompt = false;
  const lines = text.trim().split('\n');
  let lastLine = lines.pop() ?? '';
  if (findParams(lastLine).length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }
  for (let line of lines) {
    line = line.trim();
    if (line.startsWith(NEGATIVE_PREFIX)) {
      doneWithPrompt = true;
      line = line.slice(NEGATIVE_PREFIX.length).trim();
    }
    if (doneWithPrompt) negative += (negative === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  res['Prompt'] = prompt;
  res['Negative prompt'] = negative;

  const { line: paramLine, hashes } = extractCivitaiHashes(lastLine);
  for (const [k, raw] of findParams(paramLine)) {
    const v = raw[0] === '"' && raw[raw.length - 1] === '"' ? unquote(raw) : raw;
    const size = RE_IMAGESIZE.exec(v);
    if (size) {
      res[`${k}-1`] = size[1]!;
      res[`${k}-2`] = size[2]!;
    } else res[k] = v;
  }

  if (!('Clip skip' in res)) res['Clip skip'] = '1';
  const hypernet = res['Hypernet'];
  if (hypernet !== undefined) res['Prompt'] = `${res['Prompt']}<hypernet:${hypernet}:${res['Hypernet strength'] ?? '1.0'}>`;
  if (!('Hires resize-1' in res)) {
    res['Hires resize-1'] = 0;
    res['Hires resize-2'] = 0;
  }
  for (const [k, v] of DEFAULTS) if (!(k in res)) res[k] = v;
  restoreOldHiresFix(res);
  for (const [k, v] of LATE_DEFAULTS) if (!(k in res)) res[k] = v;
  if (!('Cache FP16 weight for LoRA' in res) && res['FP8 weight'] !== 'Disable') res['Cache FP16 weight for LoRA'] = false;
  if (!('Refiner switch by sampling steps' in res)) res['Refiner switch by sampling steps'] = false;
  return hashes ? { fields: res, hashes } : { fields: res };
}

/** `name: hash, name: hash` as the LoRA/TI scripts write it (names never hold `:` or `,`). */
function parseHashList(value: InfotextFieldValue | undefined): InfotextHash[] {
  if (typeof value !== 'string' || value === '') return [];
  const out: InfotextHash[] = [];
  for (const part of value.split(',')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const name = part.slice(0, colon).trim();
    const hash = part.slice(colon + 1).trim();
    if (name && hash) out.push({ name, hash });
  }
  return out;
}

function num(value: InfotextFieldValue | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function str(value: InfotextFieldValue | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

/**
 * Parses an A1111 infotext (as pasted or read from a PNG `parameters` chunk).
 *
 * @example parseInfotext('a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x768')
 * // { prompt: 'a cat', sampler: 'dpmpp_2m', scheduler: 'karras', width: 512, height: 768, ... }
 */
export function parseInfotext(text: string): ParsedInfotext {
  const { fields, hashes } = parseGenerationParameters(text);
  const samplerName = str(fields['Sampler']);
  const resolved = samplerName ? resolveSampler(samplerName) : undefined;
  const scheduleType = str(fields['Schedule type']);
  const explicit = scheduleType ? findScheduler(scheduleType) : undefined;
  // A legacy combined name carries the scheduler; an explicit non-automatic Schedule type wins.
  const scheduler = explicit && explicit.id !== 'automatic' ? explicit.id : (resolved?.scheduler?.id ?? 'automatic');
  const out: ParsedInfotext = {
    prompt: String(fields['Prompt']),
    negative_prompt: String(fields['Negative prompt']),
    fields,
    steps: num(fields['Steps']),
    sampler: resolved?.sampler.id,
    scheduler,
    cfg_scale: num(fields['CFG scale']),
    seed: num(fields['Seed']),
    width: num(fields['Size-1']),
    height: num(fields['Size-2']),
    model: str(fields['Model']),
    model_hash: str(fields['Model hash']),
    clip_skip: num(fields['Clip skip']) ?? 1,
    denoising_strength: num(fields['Denoising strength']),
    initial_noise_multiplier: num(fields['Noise multiplier']),
    loras: parseHashList(fields['Lora hashes']),
    embeddings: parseHashList(fields['TI hashes']),
    version: str(fields['Version']),
    adetailer: adetailerFromInfotext(fields),
    controlnet: controlNetFromInfotext(fields),
  };
  if (hashes) out.hashes = hashes;
  const hires = parseHires(fields);
  if (hires) out.hires = hires;
  return out;
}

/**
 * The hires fix of an infotext: present when it names a hires scale, resize or upscaler (A1111's
 * paste also needs "Denoising strength"; the defaults it injects are read back as unset).
 */
function parseHires(fields: Record<string, InfotextFieldValue>): ParsedHires | undefined {
  const width = num(fields['Hires resize-1']) ?? 0;
  const height = num(fields['Hires resize-2']) ?? 0;
  if (fields['Hires upscale'] === undefined && fields['Hires upscaler'] === undefined && width === 0 && height === 0) return undefined;
  const samplerName = str(fields['Hires sampler']);
  const sampler = samplerName && samplerName !== 'Use same sampler' ? resolveSampler(samplerName) : undefined;
  const scheduleName = str(fields['Hires schedule type']);
  const schedule = scheduleName && scheduleName !== 'Use same scheduler' ? findScheduler(scheduleName) : undefined;
  const out: ParsedHires = {
    enabled: true,
    scale: num(fields['Hires upscale']) ?? 2,
    width,
    height,
    steps: num(fields['Hires steps']) ?? 0,
    prompt: str(fields['Hires prompt']) ?? '',
    negative_prompt: str(fields['Hires negative prompt']) ?? '',
  };
  const upscaler = str(fields['Hires upscaler']);
  if (upscaler) out.upscaler = upscaler;
  const d = num(fields['Denoising strength']);
  if (d !== undefined) out.denoising_strength = d;
  if (sampler) out.sampler = sampler.sampler.id;
  if (schedule) out.scheduler = schedule.id;
  else if (sampler?.scheduler) out.scheduler = sampler.scheduler.id;
  return out;
}

// The body of A1111's txt2img/img2img answer: `{images, parameters, info}` where `info` is the JSON
// string of `Processed.js()` (COMPAT.md 1.3), built from the request, Easel's validated params and
// the images the job produced (each with the infotext that is also in its PNG).
import { resolveSampler } from '../../../native/sampling/names.js';
import { DEFAULT_INFOTEXT_VERSION } from '../../infotext/index.js';
import type { CapturedResult } from '../../jobs/job-results.js';

const MAX_SUBSEED = 4294967294;

/** `YYYYMMDDHHMMSS` in local time, as A1111's `job_timestamp`. */
export function jobTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The engine's `[key, value]` extra params as the dict A1111 reports. */
function extraParams(v: unknown): Record<string, unknown> {
  if (!Array.isArray(v)) return {};
  const out: Record<string, unknown> = {};
  for (const e of v) if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') out[e[0]] = e[1];
  return out;
}

export interface AnswerInput {
  kind: 'txt2img' | 'img2img';
  /** The A1111 request with defaults filled (a1111-request.ts). */
  request: Record<string, unknown>;
  /** Easel's validated GenerationParams. */
  params: Record<string, unknown>;
  result: CapturedResult | undefined;
  startedAt: number;
}

/** `Processed.js()`: the object A1111 serialises into `info`. */
export function processedInfo(a: AnswerInput): Record<string, unknown> {
  const { request: r, params: p } = a;
  const images = a.result?.images ?? [];
  const info = a.result?.info ?? {};
  const count = Math.max(images.length, (p.batch_size as number) * (p.n_iter as number));
  const seeds = images.length > 0 ? images.map((i) => i.seed) : Array.isArray(info.all_seeds) ? (info.all_seeds as number[]) : [p.seed as number];
  const subseed = typeof r.subseed === 'number' && r.subseed >= 0 ? r.subseed : Math.floor(Math.random() * MAX_SUBSEED);
  const hires = typeof p.hires === 'object' && p.hires !== null;
  return {
    prompt: p.prompt,
    all_prompts: Array.from({ length: count }, () => p.prompt),
    negative_prompt: p.negative_prompt,
    all_negative_prompts: Array.from({ length: count }, () => p.negative_prompt),
    seed: seeds[0] ?? p.seed,
    all_seeds: seeds,
    subseed,
    all_subseeds: seeds.map((_s, i) => subseed + i),
    subseed_strength: r.subseed_strength,
    width: images[0]?.width ?? p.width,
    height: images[0]?.height ?? p.height,
    sampler_name: resolveSampler(String(p.sampler))?.sampler.label ?? p.sampler,
    cfg_scale: p.cfg_scale,
    steps: p.steps,
    batch_size: p.batch_size,
    restore_faces: r.restore_faces ?? false,
    face_restoration_model: null,
    sd_model_name: info.model ?? null,
    sd_model_hash: info.model_hash ?? null,
    sd_vae_name: info.vae ?? null,
    sd_vae_hash: info.vae_hash ?? null,
    seed_resize_from_w: r.seed_resize_from_w,
    seed_resize_from_h: r.seed_resize_from_h,
    denoising_strength: a.kind === 'img2img' || hires ? r.denoising_strength : null,
    extra_generation_params: extraParams(info.extra),
    index_of_first_image: 0,
    infotexts: images.map((i) => i.infotext),
    styles: r.styles ?? [],
    job_timestamp: jobTimestamp(a.startedAt),
    clip_skip: p.clip_skip,
    is_using_inpainting_conditioning: false,
    version: typeof info.version === 'string' ? info.version : DEFAULT_INFOTEXT_VERSION,
  };
}

/** The whole answer; img2img drops its input images unless `include_init_images`, as A1111 does. */
export function generationAnswer(a: AnswerInput): { images: string[]; parameters: Record<string, unknown>; info: string } {
  const parameters = { ...a.request };
  if (a.kind === 'img2img' && parameters.include_init_images !== true) {
    parameters.init_images = null;
    parameters.mask = null;
  }
  const images = a.request.send_images === false ? [] : (a.result?.images ?? []).map((i) => i.png.toString('base64'));
  return { images, parameters, info: JSON.stringify(processedInfo(a)) };
}

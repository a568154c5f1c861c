// Turns a finished job's parameters plus what the engine reports (`info`: resolved seed, model
// name and hash, LoRA hashes, ...) into B's InfotextParams and the gallery row's metadata. The
// engine's values win: the infotext must describe what actually ran.
import type { InfotextHash, InfotextParams } from '../infotext/index.js';
import type { WorkerImage } from '../../native/worker-protocol.js';
import type { Job } from './job.js';
import type { NewImageMeta } from '../gallery/gallery-store.js';

/** The gallery row's metadata for one result image (the store's own input type). */
export type ImageMeta = NewImageMeta;

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const optNum = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function hashes(v: unknown): InfotextHash[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter(
    (h): h is InfotextHash => typeof h === 'object' && h !== null && typeof (h as InfotextHash).name === 'string' && typeof (h as InfotextHash).hash === 'string',
  );
  return out.length > 0 ? out : undefined;
}

/** The engine's A1111 extra_generation_params ([key, value] pairs), type-checked. */
function extraParams(v: unknown): [string, string | number][] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter(
    (e): e is [string, string | number] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && (typeof e[1] === 'string' || typeof e[1] === 'number'),
  );
  return out.length > 0 ? out : undefined;
}

/** Parameters of what ran: job params overlaid with the engine's effective values. */
function effective(job: Job, info: Record<string, unknown>): Record<string, unknown> {
  return { ...job.params, ...info };
}

/** A1111's `Size`: the image's, or the first pass's that the engine reports for a hires-fixed image. */
function infotextSize(p: Record<string, unknown>, image: WorkerImage): { width: number; height: number } {
  const s = p.infotext_size as { width?: unknown; height?: unknown } | undefined;
  return { width: num(s?.width, image.width), height: num(s?.height, image.height) };
}

export function toInfotextParams(job: Job, image: WorkerImage, info: Record<string, unknown>): InfotextParams {
  const p = effective(job, info);
  const task = str(p.task, 'txt2img');
  const out: InfotextParams = {
    prompt: str(p.prompt),
    negative_prompt: str(p.negative_prompt),
    steps: num(p.steps, 20),
    sampler: str(p.sampler, 'euler_a'),
    scheduler: str(p.scheduler, 'automatic'),
    cfg_scale: num(p.cfg_scale, 7),
    seed: image.seed,
    ...infotextSize(p, image),
    model: optStr(p.model),
    model_hash: optStr(p.model_hash),
    vae: optStr(p.vae),
    vae_hash: optStr(p.vae_hash),
    clip_skip: optNum(p.clip_skip),
    rng: p.rng === 'cpu' ? 'cpu' : 'nv',
    // txt2img writes it only with the hires fix (the engine reports it then).
    denoising_strength: task === 'txt2img' ? optNum(info.denoising_strength) : optNum(p.denoising_strength ?? p.strength),
    extra: extraParams(p.extra),
    loras: hashes(p.lora_hashes),
    embeddings: hashes(p.ti_hashes),
  };
  if (typeof p.version === 'string') out.version = p.version;
  return out;
}

export function toImageMeta(job: Job, image: WorkerImage, info: Record<string, unknown>): ImageMeta {
  const p = effective(job, info);
  return {
    job_id: job.id,
    task: str(p.task, job.kind === 'generate' ? 'txt2img' : job.kind),
    prompt: str(p.prompt),
    negative_prompt: str(p.negative_prompt),
    model: str(p.model),
    width: image.width,
    height: image.height,
    seed: image.seed,
    steps: num(p.steps, 0),
    cfg_scale: num(p.cfg_scale, 0),
    sampler: str(p.sampler),
    scheduler: str(p.scheduler),
  };
}

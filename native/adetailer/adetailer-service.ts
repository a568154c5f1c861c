// ADetailer inside the engine worker: detector files by name under $MODELS_DIR/detectors (loaded
// once, reloaded when the file changes), the ADetailer units of a `generate` request applied to
// every image of the batch before it is saved (the extension's postprocess_image hook), and the
// `adetailer` job that fixes one existing image. The worker's GenerationService owns the SD engines
// and hands them in through `ADetailerEngines`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { Detector } from '../detect/detector.js';
import { DetectorError } from '../detect/detector-error.js';
import { DETECTOR_EXTENSIONS } from '../detect/detector-file.js';
import type { Raster } from '../pipelines/image-ops.js';
import { decodeImage, encodeJpeg } from '../pipelines/resize.js';
import type { Engine } from '../pipelines/engine.js';
import type { GenerateResources } from '../pipelines/types.js';
import { createEngineRuntime, type Device, type EngineRuntime } from '../runtime/ort-backend.js';
import { findScheduler, resolveSampler, type SamplerId, type SchedulerId } from '../sampling/names.js';
import { resolveSeed } from '../sampling/seeds.js';
import { ADetailerError } from './adetailer-error.js';
import { adetailerExtraParams, MAX_ADETAILER_UNITS, needSkip, withDefaults, type ADetailerArgs } from './args.js';
import { isAllBlack, requestImageMask, type InpaintRequest } from './inpaint-filter.js';
import { drawDetections } from './preview.js';
import { applyADetailer, checkSupported, type ADetailerContext, type ADetailerDeps, type ADetailerHooks } from './run-adetailer.js';

export interface ADetailerEngines {
  /** The SD engine for a checkpoint name (null: the request's own). */
  engine(checkpoint: string | null): Promise<Engine>;
  /** Extra-network resources for a pass; `vae` set when a tab overrides it. */
  resources(vae: string | null): Promise<GenerateResources>;
}

/** Preview and progress sinks of a worker job. */
export interface ADetailerJobHooks {
  signal: AbortSignal;
  onProgress(step: number, total: number): void;
  onPreview(step: number, jpeg: Uint8Array): void;
}

/** The `adetailer` array of a request as units with ADetailer's defaults (at most 4). */
export function parseUnits(v: unknown): ADetailerArgs[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ADetailerError('bad_input', 'adetailer must be a list of units');
  if (v.length > MAX_ADETAILER_UNITS) throw new ADetailerError('bad_input', `at most ${MAX_ADETAILER_UNITS} ADetailer units, got ${v.length}`);
  return v.map((u, i) => {
    if (typeof u !== 'object' || u === null) throw new ADetailerError('bad_input', `adetailer[${i}] must be an object`);
    return withDefaults(u as Partial<ADetailerArgs>);
  });
}

export class ADetailerService {
  private runtime: Promise<EngineRuntime> | undefined;
  private readonly loaded = new Map<string, { version: string; detector: Promise<Detector> }>();

  constructor(private readonly opts: { modelsDir: string; device: Device }) {}

  private get root(): string {
    return resolve(this.opts.modelsDir, 'detectors');
  }

  /** Detector files in $MODELS_DIR/detectors (relative names). */
  list(): string[] {
    if (!existsSync(this.root)) return [];
    return (readdirSync(this.root, { recursive: true }) as string[])
      .map((f) => f.split(sep).join('/'))
      .filter((f) => (DETECTOR_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
      .sort();
  }

  /** The file for `ad_model` (with or without extension), confined to the detectors folder. */
  resolve(name: string): string {
    if (name.toLowerCase().startsWith('mediapipe')) throw new DetectorError('unsupported_detector', `${name}: MediaPipe detectors are not supported; use a YOLOv8 file from models/detectors`);
    const root = this.root;
    for (const candidate of [name, ...DETECTOR_EXTENSIONS.map((e) => name + e)]) {
      const p = resolve(root, candidate);
      if (!p.startsWith(root + sep)) throw new ADetailerError('bad_input', `ad_model must be a file name in the detectors folder, got ${name}`);
      if ((DETECTOR_EXTENSIONS as readonly string[]).includes(extname(p).toLowerCase()) && existsSync(p) && statSync(p).isFile()) return p;
    }
    throw new DetectorError('detector_not_found', `detector "${name}" not found in ${root}`);
  }

  async detector(name: string): Promise<Detector> {
    const path = this.resolve(name);
    const st = statSync(path);
    const version = `${st.size}:${st.mtimeMs}`;
    const hit = this.loaded.get(path);
    if (hit && hit.version === version) return hit.detector;
    if (hit) await (await hit.detector.catch(() => undefined))?.dispose();
    this.runtime ??= createEngineRuntime({ device: this.opts.device });
    const detector = this.runtime.then((rt) => Detector.load(path, rt));
    this.loaded.set(path, { version, detector });
    detector.catch(() => this.loaded.delete(path));
    return detector;
  }

  private deps(engines: ADetailerEngines): ADetailerDeps {
    return { engine: (c) => engines.engine(c), resources: (v) => engines.resources(v), detector: (n) => this.detector(n) };
  }

  /** Checks a request's units before any work starts: files exist, options are supported. */
  validate(units: readonly ADetailerArgs[]): void {
    for (const u of units) {
      if (needSkip(u)) continue;
      checkSupported(u);
      this.resolve(u.ad_model);
    }
  }

  /**
   * The generate hook: every image of the batch through the units, in order; returns the images and
   * the infotext fields (empty when every unit is skipped).
   */
  async applyToBatch(
    images: { rgb: Raster; seed: number }[],
    units: readonly ADetailerArgs[],
    ctx: Omit<ADetailerContext, 'seed'> & InpaintRequest,
    engines: ADetailerEngines,
    hooks: ADetailerJobHooks,
  ): Promise<[string, string | number][]> {
    if (units.every(needSkip)) return [];
    // img2img inpaint: an all-black mask disables ADetailer (no passes, no infotext keys); with
    // "Whole picture" its detections are filtered by the mask.
    const requestMask = await requestImageMask(ctx);
    if (requestMask && isAllBlack(requestMask)) return [];
    const inpaintMask = requestMask && !ctx.inpaint_full_res ? requestMask : null;
    for (const img of images) {
      const out = await applyADetailer(img.rgb, units, { ...ctx, seed: img.seed, inpaintMask }, this.deps(engines), this.jobHooks(hooks));
      img.rgb = out.image;
    }
    return adetailerExtraParams(units);
  }

  /** The `adetailer` job: one existing image (PNG bytes) fixed with the given units and context. */
  async fixImage(
    png: Uint8Array,
    units: readonly ADetailerArgs[],
    ctx: Omit<ADetailerContext, 'width' | 'height'> & { width?: number; height?: number },
    engines: ADetailerEngines,
    hooks: ADetailerJobHooks,
  ): Promise<{ image: Raster; passes: number; extra: [string, string | number][] }> {
    const image = await decodeImage(png);
    // ADetailer in img2img uses p.width/p.height; for a gallery image that is the image's own size
    // (multiples of 8, at most 1024 on the long side for the "only masked" processing size).
    const scale = Math.min(1, 1024 / Math.max(image.width, image.height));
    const to8 = (v: number) => Math.max(64, Math.round((v * scale) / 8) * 8);
    const full = { ...ctx, width: ctx.width ?? to8(image.width), height: ctx.height ?? to8(image.height) };
    const out = await applyADetailer(image, units, full, this.deps(engines), this.jobHooks(hooks));
    return { image: out.image, passes: out.passes, extra: adetailerExtraParams(units) };
  }

  /** Progress per detection pass, and the detection preview (boxes and masks) before inpainting. */
  private jobHooks(hooks: ADetailerJobHooks): ADetailerHooks {
    let count = 0;
    return {
      signal: hooks.signal,
      onDetected: async (info) => {
        count = info.masks.length;
        hooks.onProgress(0, count);
        const jpeg = await encodeJpeg(drawDetections(info.image, info.masks, info.boxes), 80);
        hooks.onPreview(0, new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength));
      },
      onPass: (p) => {
        if (p.index > 0) hooks.onProgress(p.index, count);
      },
    };
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map(async (l) => (await l.detector.catch(() => undefined))?.dispose()));
  }
}

/** The base parameters of an `adetailer` job's passes (what the source image was made with). */
export function jobContext(p: Record<string, unknown>): Omit<ADetailerContext, 'width' | 'height'> & { width?: number; height?: number } {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const resolved = resolveSampler(typeof p.sampler === 'string' ? p.sampler : 'euler_a') ?? resolveSampler('euler_a')!;
  const scheduler: SchedulerId = (typeof p.scheduler === 'string' ? findScheduler(p.scheduler)?.id : undefined) ?? resolved.scheduler?.id ?? 'automatic';
  return {
    prompt: typeof p.prompt === 'string' ? p.prompt : '',
    negative_prompt: typeof p.negative_prompt === 'string' ? p.negative_prompt : '',
    seed: resolveSeed(num(p.seed, -1)),
    steps: num(p.steps, 20),
    cfg_scale: num(p.cfg_scale, 7),
    sampler: resolved.sampler.id as SamplerId,
    scheduler,
    clip_skip: num(p.clip_skip, 1),
    rng: p.rng === 'cpu' ? 'cpu' : 'nv',
  };
}


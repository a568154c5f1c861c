// What the engine worker runs for a `generate` job: resolves the checkpoint by name under
// $MODELS_DIR/checkpoints, LoRAs under loras/, embeddings under embeddings/ and the VAE under vae/,
// keeps one model loaded (switching releases the previous sessions), runs the pipeline and returns
// PNGs plus the effective parameters the server writes into the infotext.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { NetworkError } from './lora/lora-error.js';
import { extractLoraTags } from './text/lora-tags.js';
import { VaeFile, VAE_EXTENSIONS } from './vae/vae-file.js';
import { modelShortHash } from './models/model-hash.js';
import { generate } from './pipelines/generate.js';
import { encodePng } from './pipelines/resize.js';
import { loadEngine, type Engine } from './pipelines/engine.js';
import { hiresUpscalers, type HiresUpscalers } from './pipelines/hires-upscalers.js';
import { PhaseReporter } from './pipelines/phase-reporter.js';
import { observePartLoads } from './runtime/load-events.js';
import type { GenerateRequest, HiresOptions, MaskedContent } from './pipelines/types.js';
import type { Device } from './runtime/ort-backend.js';
import type { SamplerId, SchedulerId } from './sampling/names.js';
import { WorkerError, type RunHooks, type RunOutput } from './worker-protocol.js';
import { resolveControlNetFile, toControlNetUnits } from './controlnet/controlnet-resolve.js';
import { ADetailerService, jobContext, parseUnits } from './adetailer/adetailer-service.js';
import { sharedLoadCache } from './runtime/load-cache.js';
import { resolveEngineMemory, type EngineMemorySetting } from './runtime/memory-mode.js';
import type { LivePreviewOptions, PreviewMethod } from './pipelines/live-preview.js';
import { TaesdCache } from './taesd/taesd-folder.js';

export interface GenerationServiceOptions {
  modelsDir: string;
  device: Device;
  /** Overrides the tokenizer search (`TOKENIZER_DIR`). */
  tokenizerDir?: string;
  /** VAE when a request names none (`DEFAULT_VAE`): a file name in $MODELS_DIR/vae, 'Automatic' (default) or 'None'. */
  defaultVae?: string;
  /** Merged-LoRA cache folder (`LORA_CACHE_DIR`, default $MODELS_DIR/.cache/lora-merged) and its size bound. */
  loraCacheDir?: string;
  loraCacheMaxBytes?: number;
  /** Live preview method (`LIVE_PREVIEW_METHOD`: auto, cheap, taesd, full) and the share of job time previews may take. */
  previewMethod?: PreviewMethod;
  previewBudget?: number;
  /** `ENGINE_MEMORY`: auto (default), low (one model part loaded at a time) or normal (see native/runtime/memory-mode.ts). */
  memory?: EngineMemorySetting;
}

const CHECKPOINT_EXT = /\.(safetensors|ckpt)$/i;
const LORA_EXT = ['.safetensors'];

/** Files under `root` (recursively), relative paths with `/`. */
function listFiles(root: string, exts: readonly string[]): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[])
    .map((f) => f.split(sep).join('/'))
    .filter((f) => exts.includes(extname(f).toLowerCase()) && statSync(join(root, f)).isFile())
    .sort();
}

/**
 * A model file by the name a user gave: the relative path itself, the path plus a known extension,
 * or (A1111's way for LoRAs) a file anywhere below `root` whose stem is the name. Confined to `root`.
 */
function findByName(root: string, name: string, exts: readonly string[]): string | undefined {
  const direct = [name, ...exts.map((e) => name + e)].map((n) => resolve(root, n));
  for (const p of direct) {
    if (p.startsWith(root + sep) && exts.includes(extname(p).toLowerCase()) && existsSync(p) && statSync(p).isFile()) return p;
  }
  const byStem = listFiles(root, exts).find((f) => basename(f, extname(f)) === name || f.slice(0, -extname(f).length) === name);
  return byStem ? join(root, byStem) : undefined;
}

/** Extra-network file errors the wire reports as one code. */
const BAD_FILE_CODES = new Set(['bad_lora_file', 'lora_shape_mismatch', 'bad_vae_file', 'bad_embedding_file', 'unsupported_format']);

/** Anything thrown with a string `code` keeps it on the wire; the rest is `internal`. */
function toWorkerError(err: unknown): unknown {
  if (err instanceof WorkerError) return err;
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    const code = (err as Error & { code: string }).code;
    if (code === 'unsafe_pickle') return new WorkerError('unsafe_model_file', err.message);
    return new WorkerError(err instanceof NetworkError && BAD_FILE_CODES.has(code) ? 'bad_model_file' : code, err.message);
  }
  return err;
}

export class GenerationService {
  private loaded: { path: string; engine: Engine } | null = null;
  private readonly vaes = new Map<string, VaeFile>();
  private upscalers: HiresUpscalers | undefined;
  private taesd: TaesdCache | undefined;
  /** Detectors and ADetailer passes (native/adetailer). */
  readonly adetailer: ADetailerService;

  constructor(private readonly opts: GenerationServiceOptions) {
    this.adetailer = new ADetailerService({ modelsDir: opts.modelsDir, device: opts.device });
  }

  private checkpointsDir(): string {
    return resolve(this.opts.modelsDir, 'checkpoints');
  }

  /** The checkpoint file for a registry name, confined to $MODELS_DIR/checkpoints. */
  resolveModel(name: string | undefined): { name: string; path: string } {
    const root = this.checkpointsDir();
    if (name === undefined || name === '') {
      const first = existsSync(root) ? readdirSync(root).filter((f) => CHECKPOINT_EXT.test(f)).sort()[0] : undefined;
      if (!first) throw new WorkerError('no_model', `no checkpoint found: put a .safetensors file in ${root} or download one`);
      return { name: first, path: join(root, first) };
    }
    const path = resolve(root, name);
    if (!path.startsWith(root + sep)) throw new WorkerError('invalid_params', `model must be a name inside the checkpoints folder, got ${name}`);
    if (!existsSync(path) || !statSync(path).isFile()) throw new WorkerError('model_not_found', `checkpoint "${name}" not found in ${root}`);
    return { name, path };
  }

  /** A LoRA file under $MODELS_DIR/loras by name (with or without extension, or by stem in a subfolder). */
  resolveLora(name: string): string {
    const root = resolve(this.opts.modelsDir, 'loras');
    const path = findByName(root, name, LORA_EXT);
    if (!path) throw new NetworkError('lora_not_found', `LoRA "${name}" not found in ${root}`);
    return path;
  }

  /** A ControlNet file or diffusers folder under $MODELS_DIR/controlnet by a unit's `model` (`name [hash8]`, file name or stem). */
  resolveControlNet(name: string): string {
    return resolveControlNetFile(resolve(this.opts.modelsDir, 'controlnet'), name);
  }

  /**
   * The VAE for a request: a file name in $MODELS_DIR/vae, 'None' (the checkpoint's own) or
   * 'Automatic' (A1111: a `<checkpoint>.vae.*` file next to the checkpoint or in vae/, else the
   * checkpoint's own). Unset: the DEFAULT_VAE setting.
   */
  async resolveVae(param: string | undefined, checkpointPath: string): Promise<VaeFile | null> {
    const choice = param ?? this.opts.defaultVae ?? 'Automatic';
    if (choice === 'None' || choice === '') return null;
    const root = resolve(this.opts.modelsDir, 'vae');
    let path: string | undefined;
    if (choice === 'Automatic') {
      const stem = basename(checkpointPath, extname(checkpointPath));
      const candidates = VAE_EXTENSIONS.flatMap((e) => [join(dirname(checkpointPath), `${stem}.vae${e}`), join(root, `${stem}.vae${e}`)]);
      path = candidates.find((p) => existsSync(p));
      if (!path) return null;
    } else {
      path = findByName(root, choice, VAE_EXTENSIONS);
      if (!path) throw new NetworkError('vae_not_found', `VAE "${choice}" not found in ${root}`);
    }
    const st = statSync(path);
    const cached = this.vaes.get(path);
    if (cached && cached.version === `${path}:${st.size}:${st.mtimeMs}`) return cached;
    await cached?.close();
    const vae = await VaeFile.open(path);
    this.vaes.set(path, vae);
    return vae;
  }

  private async engineFor(path: string): Promise<Engine> {
    if (this.loaded?.path === path) return this.loaded.engine;
    if (this.loaded) {
      const old = this.loaded;
      this.loaded = null;
      await old.engine.dispose();
    }
    const loadCache = sharedLoadCache(join(resolve(this.opts.modelsDir), '.cache', 'load'));
    const memory = resolveEngineMemory(this.opts.memory ?? 'auto', { device: this.opts.device, loadCache: loadCache?.enabled ?? false, fullPreviews: this.opts.previewMethod === 'full' });
    const engine = await loadEngine(path, {
      memory,
      modelsDir: this.opts.modelsDir,
      tokenizerDir: this.opts.tokenizerDir,
      device: this.opts.device,
      loraCacheDir: this.opts.loraCacheDir ?? join(resolve(this.opts.modelsDir), '.cache', 'lora-merged'),
      loraCacheMaxBytes: this.opts.loraCacheMaxBytes,
      loadCache,
    });
    this.loaded = { path, engine };
    return engine;
  }

  async run(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
    try {
      return await this.runUnsafe(params, hooks);
    } catch (err) {
      throw toWorkerError(err);
    }
  }

  private async runUnsafe(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
    // Phases for the progress display; session creation (lazy, any phase) shows as loading_model.
    const phases = new PhaseReporter((phase, info) => hooks.onPhase?.(phase, info));
    const stopObserving = observePartLoads((e) => phases.partLoad(e));
    try {
      return await this.runPhased(params, hooks, phases);
    } finally {
      stopObserving();
    }
  }

  private async runPhased(params: Record<string, unknown>, hooks: RunHooks, phases: PhaseReporter): Promise<RunOutput> {
    const model = this.resolveModel(typeof params.model === 'string' ? params.model : undefined);
    const request = toRequest(params);
    // Resolve every file before loading anything, so a missing LoRA or VAE fails fast.
    for (const l of [...(request.loras ?? []), ...extractLoraTags(request.prompt).loras]) this.resolveLora(l.name);
    const vae = await this.resolveVae(typeof params.vae === 'string' ? params.vae : undefined, model.path);
    for (const u of request.controlnet ?? []) if (u.enabled !== false && typeof u.model === 'string' && u.model !== '' && u.model !== 'None') this.resolveControlNet(u.model);
    const adUnits = parseUnits(params.adetailer);
    this.adetailer.validate(adUnits);
    // The loaded model stays warm between jobs; only a different checkpoint costs a load.
    if (this.loaded?.path !== model.path) {
      const detail = this.loaded ? `switching model to ${model.name}` : `loading ${model.name}`;
      phases.set('loading_model', { fraction: 0, detail });
    }
    const engine = await this.engineFor(model.path);
    hooks.signal.throwIfAborted();
    const [result, hash] = await Promise.all([
      generate(
        engine,
        request,
        {
          signal: hooks.signal,
          previewEvery: hooks.previewEvery,
          onProgress: (step, total) => hooks.onProgress(step, total),
          onPreview: (step, jpeg) => hooks.onPreview(step, jpeg),
          onPhase: (phase) => phases.set(phase),
        },
        {
          resolveLora: (name) => this.resolveLora(name),
          embeddingsDir: resolve(this.opts.modelsDir, 'embeddings'),
          vae,
          ...this.hiresUpscalers(),
          preview: await this.livePreview(engine, hooks.previewEvery),
          resolveControlNet: (name) => this.resolveControlNet(name),
        },
      ),
      modelShortHash(model.path),
    ]);
    // ADetailer's postprocess_image: every image of the batch, before it is saved.
    // ADetailer's processing size is p.width×p.height (the request's; params report an "only masked" inpaint's output size).
    const adCtx = { ...request, ...result.params, width: request.width, height: request.height, loras: request.loras };
    const adExtra = await this.adetailer.applyToBatch(result.images, adUnits, adCtx, this.adetailerEngines(model.path, vae), hooks);
    result.params.extra.push(...adExtra);
    const images = [];
    for (const img of result.images) {
      const png = await encodePng(img.rgb);
      images.push({ png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width: img.rgb.width, height: img.rgb.height, seed: img.seed, ...(img.firstPass ? { first_pass: true } : {}) });
    }
    const p = result.params;
    return {
      images,
      info: {
        seed: p.seed,
        all_seeds: p.all_seeds,
        model: model.name.replace(CHECKPOINT_EXT, ''),
        model_file: model.name,
        model_hash: hash,
        sampler: p.sampler,
        scheduler: p.scheduler,
        denoising_strength: p.denoising_strength,
        extra: p.extra,
        lora_hashes: p.lora_hashes,
        ti_hashes: p.ti_hashes,
        vae: p.vae,
        vae_hash: p.vae_hash,
        // Hires fix: A1111's `Size` is the first pass's.
        ...(p.hires ? { infotext_size: { width: p.width, height: p.height } } : {}),
      },
    };
  }

  /** Image upscalers for the hires fix, from $MODELS_DIR/upscalers (the last model stays loaded). */
  private hiresUpscalers(): HiresUpscalers {
    this.upscalers ??= hiresUpscalers({ upscalersDir: resolve(this.opts.modelsDir, 'upscalers'), device: this.opts.device });
    return this.upscalers;
  }

  /** The job's live preview settings: the family's TAESD decoder from $MODELS_DIR/vae-approx when the method may use it. */
  private async livePreview(engine: Engine, previewEvery: number): Promise<LivePreviewOptions> {
    const method = this.opts.previewMethod ?? 'auto';
    const wantsTaesd = previewEvery > 0 && (method === 'auto' || method === 'taesd');
    this.taesd ??= new TaesdCache({
      modelsDir: resolve(this.opts.modelsDir),
      device: this.opts.device,
      onBadFile: (path, err) => console.warn(`TAESD file ${path} is not usable, previews use the cheap method: ${err instanceof Error ? err.message : String(err)}`),
    });
    const taesd = wantsTaesd ? await this.taesd.get(engine.family === 'sdxl' ? 'sdxl' : 'sd1') : null;
    return { method, taesd, budgetShare: this.opts.previewBudget };
  }

  /** How ADetailer passes reach the engines: the request's checkpoint/VAE unless a tab overrides them. */
  private adetailerEngines(checkpointPath: string, vae: VaeFile | null) {
    return {
      engine: (name: string | null) => this.engineFor(name === null ? checkpointPath : this.resolveModel(name).path),
      resources: async (vaeName: string | null) => ({
        resolveLora: (n: string) => this.resolveLora(n),
        embeddingsDir: resolve(this.opts.modelsDir, 'embeddings'),
        vae: vaeName === null ? vae : await this.resolveVae(vaeName, checkpointPath),
      }),
    };
  }

  /** The `adetailer` job: `image` (PNG bytes of the source) fixed by `units`, with the source's parameters. */
  async runADetailer(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
    try {
      const units = parseUnits(params.units);
      if (!(params.image instanceof Uint8Array)) throw new WorkerError('invalid_params', 'adetailer needs the source image');
      if (units.length === 0) throw new WorkerError('invalid_params', 'adetailer needs at least one unit');
      this.adetailer.validate(units);
      // The source's infotext names its checkpoint without the extension ("Model: v1-5").
      const name = typeof params.model === 'string' ? params.model : undefined;
      const root = this.checkpointsDir();
      const file = name && !CHECKPOINT_EXT.test(name) ? ['.safetensors', '.ckpt'].map((e) => name + e).find((f) => existsSync(join(root, f))) : name;
      const model = this.resolveModel(file ?? name);
      const vae = await this.resolveVae(typeof params.vae === 'string' ? params.vae : undefined, model.path);
      const ctx = jobContext(params);
      const [out, hash] = await Promise.all([this.adetailer.fixImage(params.image, units, ctx, this.adetailerEngines(model.path, vae), hooks), modelShortHash(model.path)]);
      const png = await encodePng(out.image);
      return {
        images: [{ png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width: out.image.width, height: out.image.height, seed: ctx.seed }],
        info: {
          ...ctx,
          task: 'adetailer',
          model: model.name.replace(CHECKPOINT_EXT, ''),
          model_file: model.name,
          model_hash: hash,
          extra: out.extra,
          detections: out.passes,
          source_image_id: typeof params.source_image_id === 'string' ? params.source_image_id : undefined,
        },
      };
    } catch (err) {
      throw toWorkerError(err);
    }
  }

  /** LoRA merges computed by the loaded model so far (cache misses); for tests and logs. */
  get loraMerges(): number {
    return this.loaded?.engine.networks.merges ?? 0;
  }

  async dispose(): Promise<void> {
    if (this.loaded) await this.loaded.engine.dispose();
    this.loaded = null;
    await Promise.all([...this.vaes.values()].map((v) => v.close()));
    await this.upscalers?.dispose();
    this.upscalers = undefined;
    await this.taesd?.dispose();
    this.taesd = undefined;
    this.vaes.clear();
    await this.adetailer.dispose();
  }
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const MASKED: readonly MaskedContent[] = ['fill', 'original', 'latent_noise', 'latent_nothing'];

/** Validated GenerationParams (server/protocol) → the pipeline's request. */
export function toRequest(p: Record<string, unknown>): GenerateRequest {
  const bytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined);
  const task = p.task === 'img2img' || p.task === 'inpaint' ? p.task : 'txt2img';
  const fill = MASKED.find((m) => m === p.inpainting_fill);
  const resize = p.resize_mode === 1 || p.resize_mode === 2 ? p.resize_mode : 0;
  return {
    task,
    prompt: typeof p.prompt === 'string' ? p.prompt : '',
    negative_prompt: typeof p.negative_prompt === 'string' ? p.negative_prompt : '',
    width: num(p.width, 512),
    height: num(p.height, 512),
    steps: num(p.steps, 20),
    cfg_scale: num(p.cfg_scale, 7),
    sampler: (typeof p.sampler === 'string' ? p.sampler : 'euler_a') as SamplerId,
    scheduler: (typeof p.scheduler === 'string' ? p.scheduler : 'automatic') as SchedulerId,
    seed: num(p.seed, -1),
    batch_size: num(p.batch_size, 1),
    n_iter: num(p.n_iter, 1),
    rng: p.rng === 'cpu' ? 'cpu' : 'nv',
    clip_skip: num(p.clip_skip, 1),
    image: bytes(p.image),
    mask: bytes(p.mask),
    strength: num(p.strength, 0.75),
    mask_blur: num(p.mask_blur, 4),
    inpaint_full_res: p.inpaint_full_res === true,
    inpaint_full_res_padding: num(p.inpaint_full_res_padding, 32),
    inpainting_fill: fill ?? 'original',
    inpainting_mask_invert: p.inpainting_mask_invert === true,
    initial_noise_multiplier: num(p.initial_noise_multiplier, 1),
    resize_mode: resize,
    loras: Array.isArray(p.loras)
      ? p.loras
          .filter((l): l is { name: string; weight?: unknown } => typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string')
          .map((l) => ({ name: l.name, weight: num(l.weight, 1) }))
      : [],
    hires: toHires(p.hires),
    controlnet: toControlNetUnits(p.controlnet),
  };
}

/** The validated `hires` object (ids already resolved by the protocol) → HiresOptions. */
function toHires(v: unknown): HiresOptions | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Record<string, unknown>;
  if (h.enabled === false) return undefined;
  const text = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  return {
    enabled: true,
    scale: num(h.scale, 2),
    width: num(h.width, 0),
    height: num(h.height, 0),
    upscaler: text(h.upscaler) ?? null,
    steps: num(h.steps, 0),
    denoising_strength: num(h.denoising_strength, 0.7),
    sampler: text(h.sampler) as SamplerId | undefined,
    scheduler: text(h.scheduler) as SchedulerId | undefined,
    prompt: text(h.prompt) ?? '',
    negative_prompt: text(h.negative_prompt) ?? '',
    save_first_pass: h.save_first_pass === true,
  };
}

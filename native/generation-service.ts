// What the engine worker runs for a `generate` job: resolves the checkpoint by name under
// $MODELS_DIR/checkpoints, keeps one model loaded (switching releases the previous sessions), runs
// the pipeline and returns PNGs plus the effective parameters the server writes into the infotext.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { modelShortHash } from './models/model-hash.js';
import { generate } from './pipelines/generate.js';
import { encodePng } from './pipelines/resize.js';
import { loadSd1Engine, type Sd1Engine } from './pipelines/sd1-engine.js';
import type { GenerateRequest, MaskedContent } from './pipelines/types.js';
import type { Device } from './runtime/ort-backend.js';
import type { SamplerId, SchedulerId } from './sampling/names.js';
import { WorkerError, type RunHooks, type RunOutput } from './worker-protocol.js';

export interface GenerationServiceOptions {
  modelsDir: string;
  device: Device;
  /** Overrides the tokenizer search (`TOKENIZER_DIR`). */
  tokenizerDir?: string;
}

const CHECKPOINT_EXT = /\.safetensors$/i;

/** Anything thrown with a string `code` keeps it on the wire; the rest is `internal`. */
function toWorkerError(err: unknown): unknown {
  if (err instanceof WorkerError) return err;
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    return new WorkerError((err as Error & { code: string }).code, err.message);
  }
  return err;
}

export class GenerationService {
  private loaded: { path: string; engine: Sd1Engine } | null = null;

  constructor(private readonly opts: GenerationServiceOptions) {}

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

  private async engineFor(path: string): Promise<Sd1Engine> {
    if (this.loaded?.path === path) return this.loaded.engine;
    if (this.loaded) {
      const old = this.loaded;
      this.loaded = null;
      await old.engine.dispose();
    }
    const engine = await loadSd1Engine(path, { modelsDir: this.opts.modelsDir, tokenizerDir: this.opts.tokenizerDir, device: this.opts.device });
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
    const loras = Array.isArray(params.loras) ? params.loras : [];
    if (loras.length > 0) throw new WorkerError('lora_unavailable', 'LoRA is not supported by this engine yet');
    const model = this.resolveModel(typeof params.model === 'string' ? params.model : undefined);
    const engine = await this.engineFor(model.path);
    hooks.signal.throwIfAborted();
    const request = toRequest(params);
    const [result, hash] = await Promise.all([
      generate(engine, request, {
        signal: hooks.signal,
        previewEvery: hooks.previewEvery,
        onProgress: (step, total) => hooks.onProgress(step, total),
        onPreview: (step, jpeg) => hooks.onPreview(step, jpeg),
      }),
      modelShortHash(model.path),
    ]);
    const images = [];
    for (const img of result.images) {
      const png = await encodePng(img.rgb);
      images.push({ png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width: img.rgb.width, height: img.rgb.height, seed: img.seed });
    }
    const p = result.params;
    return {
      images,
      info: {
        seed: p.seed,
        all_seeds: p.all_seeds,
        model: model.name.replace(/\.safetensors$/i, ''),
        model_file: model.name,
        model_hash: hash,
        sampler: p.sampler,
        scheduler: p.scheduler,
        denoising_strength: p.denoising_strength,
        extra: p.extra,
      },
    };
  }

  async dispose(): Promise<void> {
    if (this.loaded) await this.loaded.engine.dispose();
    this.loaded = null;
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
    resize_mode: resize,
  };
}

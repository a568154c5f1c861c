// A diffusion model ready to run, for any family the engine knows: the checkpoint's weights bound
// to its text encoder(s), UNet and VAE graphs, with sessions created lazily per shape and all
// released by `dispose()` (model switch). SD1.x has one CLIP text encoder; SDXL has CLIP-L (read
// at `hidden_states[layer_idx]`, no final LayerNorm) and the OpenCLIP tower (`openClip`).
//
//   const rt = await createEngineRuntime({ device: 'cpu' });
//   const model = await loadDiffusionModel(await openCheckpoint(path), { runtime: rt });
//   const cond = await model.textEncoder.encode(ids, 1);                       // [1, 77, 768]
//   const eps = await model.unet.eps(x, t, ctx, { batch: 2, h: 64, w: 64, tokens: 77 });
//   const img = await model.vae.decode(z, { batch: 1, h: 64, w: 64 });          // [1, 3, 512, 512]
//   await model.dispose();
import type { Precision } from '../graph/builder.js';
import { CPU_WINOGRAD, UNET_CPU_WINOGRAD } from '../graph/ops-winograd.js';
import { trimHeap } from './heap-trim.js';
import type { Checkpoint } from '../models/checkpoint.js';
import type { ModelConfig } from '../models/config.js';
import { SDXL_CLIP_L_PREFIX } from '../models/key-spec.js';
import { EngineError } from './engine-error.js';
import { ModelPart, type PartLoadCache, type PartWeights } from './model-part.js';
import type { EngineRuntime } from './ort-backend.js';
import { OpenClipRunner, TextEncoderRunner, UNetRunner, VaeRunner } from './runners.js';
import { DEFAULT_VAE_TILING, type VaeTiling } from '../vae/tiled-vae.js';
import type { WeightHook, WeightSource } from './weights.js';

export interface LoadModelOptions {
  runtime: EngineRuntime;
  /** Rewrites weights before they reach a session (LoRA merges; tests that perturb a tensor). */
  weightHook?: WeightHook;
  /** Sessions kept per part and shape (each holds a copy of that part's weights). Default 2; the UNet's 1 with onePartAtATime. */
  maxSessionsPerPart?: number;
  /** How weights reach ONNX Runtime (see ModelPartOptions.weightsVia). Default 'auto'. */
  weightsVia?: 'memory' | 'disk' | 'auto';
  /** Folder for 'disk' staging (default: the OS temp folder). */
  stagingDir?: string;
  /** On-disk cache of optimized sessions and the checkpoint's sha256 (native/runtime/load-cache.ts). */
  loadCache?: PartLoadCache;
  /**
   * Hold one part's sessions at a time: before the text encoders, the UNet or the VAE runs, the
   * other parts' sessions are freed. In fp32 the three SD1.5 parts' weights alone are 4.1 GiB, so
   * this is what keeps a 512² txt2img near the UNet's own footprint (ENGINE_MEMORY=low). Each image
   * then re-opens every part; only sensible with a load cache, where that is a cache hit (about
   * 2 s for a full-size UNet). It also keeps one UNet session (one shape at a time). Default false.
   */
  onePartAtATime?: boolean;
  /**
   * Winograd F(4×4) for the UNet's convolutions on 64×64-and-larger maps (UNET_CPU_WINOGRAD, CPU
   * float32 only): about 5 % less time per 512² step for about 0.4 GiB more peak memory (its kernels
   * and tiles). Default: on for the CPU, off with onePartAtATime, whose point is the lowest peak.
   */
  unetWinograd?: boolean;
  /** Rows per UNet session run (UNetRunner.maxBatch; 1 = cond and uncond one at a time). Default: the whole batch. */
  unetMaxBatch?: number;
  /**
   * Project the text context to every cross-attention layer's keys and values once per prompt (a
   * context graph of its own, part `unet-context`) instead of at every UNet step
   * (UNetRunnerOptions.contextKV). Default: on for the CPU, where it saves those products at every
   * step (about 9 % of a 64² step, 2 % at 256²) and, with onePartAtATime, keeps their weights out
   * of the UNet session (SD1.5: 77 MB). Off on CUDA: there the products are cheap, and K/V would be
   * copied to the device at every step (SDXL: 102 MB per CFG step); not measured, no GPU was lent.
   */
  unetContextKV?: boolean;
  /**
   * Graph precision per part. Text encoder and UNet default to the runtime's precision; the VAE
   * defaults to fp32 because the SD1.x VAE overflows in fp16 on some latents (A1111's
   * "--no-half-vae" / automatic revert to 32-bit VAE), and it runs once per image.
   */
  precision?: { textEncoder?: Precision; unet?: Precision; vae?: Precision };
  /** When and how large images are decoded/encoded in tiles (default DEFAULT_VAE_TILING). */
  vaeTiling?: Partial<VaeTiling>;
}


export type ModelPartName = 'textEncoder' | 'unet' | 'vae';

/** Frees the sessions of those `parts` that have any, then returns the freed memory to the OS. */
async function freeParts(parts: readonly ModelPart[]): Promise<void> {
  const open = parts.filter((o) => o.loaded);
  if (open.length === 0) return;
  await Promise.all(open.map((o) => o.release()));
  // glibc would keep what those sessions freed for itself, under the next part's load
  trimHeap();
}

/** Just what the loader needs of a checkpoint (a `Checkpoint` from openCheckpoint fits). */
export type ModelCheckpoint = Pick<Checkpoint, 'family' | 'config'> & WeightSource;

export class DiffusionModel {
  /** CLIP-L: SD1's only text encoder, SDXL's first (its output is the chosen layer, see the header). */
  readonly textEncoder: TextEncoderRunner;
  /** SDXL's OpenCLIP bigG tower; undefined for SD1. */
  readonly openClip: OpenClipRunner | undefined;
  readonly unet: UNetRunner;
  readonly vae: VaeRunner;
  private readonly parts: ModelPart[];
  private readonly byName: Record<ModelPartName, ModelPart[]>;

  constructor(
    readonly config: ModelConfig,
    checkpoint: WeightSource,
    opts: LoadModelOptions,
  ) {
    const partOpts = { runtime: opts.runtime, source: checkpoint, weightHook: opts.weightHook, maxSessions: opts.maxSessionsPerPart, weightsVia: opts.weightsVia, stagingDir: opts.stagingDir, loadCache: opts.loadCache };
    const te = new ModelPart('text-encoder', partOpts);
    // One part at a time also means one UNet shape at a time: a second UNet session (a hires pass,
    // the ControlNet residual variant) would otherwise hold a second 3.3 GB copy of the weights
    // beside the first. (The UNet is reopened for every image in this mode anyway.)
    const unet = new ModelPart('unet', { ...partOpts, maxSessions: opts.maxSessionsPerPart ?? (opts.onePartAtATime ? 1 : undefined) });
    const unetContext = new ModelPart('unet-context', partOpts);
    const dec = new ModelPart('vae-decoder', partOpts);
    const enc = new ModelPart('vae-encoder', partOpts);
    const precision = opts.runtime.precision;
    const tePrecision = opts.precision?.textEncoder ?? precision;
    // Graph shapes follow the part's current weights (an extended token table has more rows).
    if (config.family === 'sdxl') {
      const te2 = new ModelPart('text-encoder-2', partOpts);
      this.parts = [te, te2, unet, unetContext, dec, enc];
      this.byName = { textEncoder: [te, te2], unet: [unet, unetContext], vae: [dec, enc] };
      this.textEncoder = new TextEncoderRunner(te, config.clip_l, tePrecision, (k) => te.shape(k), { prefix: SDXL_CLIP_L_PREFIX, finalLayerNorm: false });
      this.openClip = new OpenClipRunner(te2, config.open_clip, tePrecision, (k) => te2.shape(k));
    } else {
      this.parts = [te, unet, unetContext, dec, enc];
      this.byName = { textEncoder: [te], unet: [unet, unetContext], vae: [dec, enc] };
      this.textEncoder = new TextEncoderRunner(te, config.clip_text, tePrecision, (k) => te.shape(k));
      this.openClip = undefined;
    }
    if (opts.onePartAtATime) {
      for (const group of Object.values(this.byName)) {
        const others = this.parts.filter((p) => !group.includes(p));
        for (const p of group) {
          p.beforeUse = () => freeParts(others);
        }
      }
    }
    // Winograd on the CPU only: cuDNN picks its own convolution algorithms on CUDA.
    const cpu = opts.runtime.device === 'cpu';
    const unetWinograd = cpu && (opts.unetWinograd ?? !opts.onePartAtATime);
    const unetWino = unetWinograd ? UNET_CPU_WINOGRAD : undefined;
    const contextKV = (opts.unetContextKV ?? cpu)
      ? {
          part: unetContext,
          // One part at a time: the context session has done its work for this prompt; its weights
          // (SD1.5: 77 MB of to_k/to_v) should not sit beside the UNet's while it steps.
          afterUse: opts.onePartAtATime ? () => freeParts([unetContext]) : undefined,
        }
      : undefined;
    this.unet = new UNetRunner(unet, config.unet, opts.precision?.unet ?? precision, (k) => unet.shape(k), { winograd: unetWino, maxBatch: opts.unetMaxBatch, contextKV });
    const winograd = cpu ? CPU_WINOGRAD : undefined;
    this.vae = new VaeRunner(dec, enc, config.vae, opts.precision?.vae ?? 'fp32', (k) => dec.shape(k), winograd);
    if (opts.vaeTiling) this.vae.tiling = { ...DEFAULT_VAE_TILING, ...opts.vaeTiling };
  }

  /**
   * Switches a part to other weights (LoRA-merged, an override VAE, extra embedding rows; null =
   * the checkpoint's). Only that part's sessions change; an unchanged id costs nothing, and a
   * recent id reuses its sessions while the per-part LRU holds them.
   */
  useWeights(part: ModelPartName, weights: PartWeights | null): void {
    for (const p of this.byName[part]) p.useWeights(weights);
  }

  /** The weights id a part currently uses ('base' = the checkpoint's). */
  weightsId(part: ModelPartName): string {
    return this.byName[part][0].weightsId;
  }

  /** Sessions created so far per part (a rebuild after a weight switch shows up here). */
  sessionsCreated(): Record<string, number> {
    return Object.fromEntries(this.parts.map((p) => [p.label, p.sessionsCreated]));
  }

  /** Milliseconds spent so far building graphs, filling weights and creating sessions, per part. */
  loadTimes(): Record<string, { graph: number; weights: number; session: number }> {
    return Object.fromEntries(this.parts.map((p) => [p.label, { ...p.loadMs }]));
  }

  /** Sessions per load-cache outcome, summed over the parts. */
  cacheOutcomes(): Record<string, Record<string, number>> {
    return Object.fromEntries(this.parts.map((p) => [p.label, { ...p.cacheOutcomes }]));
  }

  /** Releases every session. The checkpoint stays open (its owner closes it). */
  async dispose(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.dispose()));
  }
}

/** Binds an SD1.x or SDXL checkpoint to the runtime; sessions are made on first use (or via `prepare*`). */
export async function loadDiffusionModel(checkpoint: ModelCheckpoint, opts: LoadModelOptions): Promise<DiffusionModel> {
  if (checkpoint.family !== 'sd1' && checkpoint.family !== 'sdxl') {
    throw new EngineError('unsupported_model', `family ${String(checkpoint.family)} does not run on this engine`);
  }
  if (checkpoint.config.parameterization !== 'eps') {
    throw new EngineError('unsupported_model', `checkpoints with ${checkpoint.config.parameterization}-prediction are not supported yet`);
  }
  return new DiffusionModel(checkpoint.config, checkpoint, opts);
}

export { DiffusionModel as Sd1Model };

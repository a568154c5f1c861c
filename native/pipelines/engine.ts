// A loaded checkpoint of any supported family with everything a pipeline needs: the ONNX-backed
// text encoder(s), UNet and VAE, the CLIP tokenizer, the model's noise schedule and its family
// module (conditioning, latent format, sizes; native/families). One instance per model; `dispose()`
// releases its sessions when the user switches models. `networks` switches the model's parts to a
// request's LoRA set, embeddings and VAE.
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControlNetCache } from '../controlnet/controlnet-model.js';
import { EngineNetworks } from '../lora/engine-networks.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { ModelConfig, SupportedFamily } from '../models/config.js';
import { familyModule, type FamilyModule, type LatentFormat, type TextConditioner } from '../families/index.js';
import { createEngineRuntime, type Device, type EngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel, type DiffusionModel } from '../runtime/diffusion-model.js';
import type { LoadCache } from '../runtime/load-cache.js';
import type { EngineMemory } from '../runtime/memory-mode.js';
import { alphasCumprodFromConfig, modelScheduleFromAlphasCumprod, type ModelSchedule } from '../sampling/schedules.js';
import { findTokenizerDir, loadClipTokenizer, type ClipTokenizer } from '../text/clip-tokenizer.js';

export interface LoadEngineOptions {
  device?: Device;
  /** `--tokenizer DIR`. */
  tokenizerDir?: string;
  /** `$MODELS_DIR`, for the shared tokenizer folder. */
  modelsDir?: string;
  runtime?: EngineRuntime;
  /** Folder of merged LoRA sets (default: `easel-lora-cache` in the OS temp folder). */
  loraCacheDir?: string;
  /** Bytes that folder may hold (default 8 GiB). */
  loraCacheMaxBytes?: number;
  /** On-disk cache of optimized sessions (native/runtime/load-cache.ts); none = every load builds. */
  loadCache?: LoadCache;
  /**
   * 'lowest': 'low', and a CFG step's rows run one at a time (LoadModelOptions.unetMaxBatch 1).
   * 'low': hold one model part at a time (LoadModelOptions.onePartAtATime): low peak RSS, every
   * image re-opens the parts from the load cache, direct UNet convolutions. 'normal' (default): keep
   * every part's sessions, and on the CPU the faster Winograd UNet graph (LoadModelOptions.unetWinograd).
   */
  memory?: EngineMemory;
}

export interface Engine {
  readonly path: string;
  readonly family: SupportedFamily;
  /** What varies by family: conditioning, latent format, sizes. */
  readonly familyModule: FamilyModule;
  readonly config: ModelConfig;
  readonly model: DiffusionModel;
  readonly tokenizer: ClipTokenizer;
  /** Prompts → the UNet's conditioning, as this family builds it. */
  readonly conditioner: TextConditioner;
  readonly latent: LatentFormat;
  readonly schedule: ModelSchedule;
  /** LoRA, textual inversion and VAE override for this model. */
  readonly networks: EngineNetworks;
  /** ControlNets loaded for this model's requests (same runtime and precision as the UNet). */
  readonly controlnets?: ControlNetCache;
  dispose(): Promise<void>;
}


async function scheduleOf(checkpoint: Checkpoint): Promise<ModelSchedule> {
  // Single-file checkpoints carry the exact float32 buffer A1111 uses; diffusers folders do not.
  if (checkpoint.shape('alphas_cumprod')) return modelScheduleFromAlphasCumprod(await checkpoint.readFloat32('alphas_cumprod'));
  return modelScheduleFromAlphasCumprod(alphasCumprodFromConfig(checkpoint.config.schedule));
}

/**
 * Opens a checkpoint (single file or diffusers folder, SD1.x or SDXL) and binds it to ONNX Runtime.
 *
 * @example const engine = await loadEngine('models/checkpoints/v1-5.safetensors', { modelsDir: 'models' });
 */
export async function loadEngine(path: string, opts: LoadEngineOptions = {}): Promise<Engine> {
  const checkpoint = await openCheckpoint(path);
  try {
    const tokenizerDir = findTokenizerDir({ explicitDir: opts.tokenizerDir, checkpointPath: path, modelsDir: opts.modelsDir });
    const [tokenizer, schedule] = await Promise.all([loadClipTokenizer(tokenizerDir), scheduleOf(checkpoint)]);
    const runtime = opts.runtime ?? (await createEngineRuntime({ device: opts.device ?? 'cpu' }));
    // The cache key needs the checkpoint's content hash (remembered by path, size and mtime).
    const lc = opts.loadCache?.enabled ? opts.loadCache : undefined;
    const loadCache = lc ? { cache: lc, checkpoint: await lc.checkpointSha256(path) } : undefined;
    const lowest = opts.memory === 'lowest';
    const model = await loadDiffusionModel(checkpoint, { runtime, loadCache, onePartAtATime: lowest || opts.memory === 'low', ...(lowest ? { unetMaxBatch: 1 } : {}) });
    const family = familyModule(checkpoint.family);
    const st = await stat(path);
    const networks = new EngineNetworks(model, checkpoint, `${resolve(path)}:${st.size}:${st.mtimeMs}`, tokenizer, {
      cacheDir: opts.loraCacheDir ?? join(tmpdir(), 'easel-lora-cache'),
      cacheMaxBytes: opts.loraCacheMaxBytes,
      runtime,
    });
    const controlnets = new ControlNetCache(runtime, runtime.precision);
    return {
      path,
      controlnets,
      family: checkpoint.family,
      familyModule: family,
      config: checkpoint.config,
      model,
      tokenizer,
      conditioner: family.conditioner(model, tokenizer),
      latent: family.latentFormat(checkpoint.config),
      schedule,
      networks,
      async dispose() {
        await controlnets.dispose();
        await networks.close();
        await model.dispose();
        await checkpoint.close();
      },
    };
  } catch (err) {
    await checkpoint.close();
    throw err;
  }
}


// A loaded SD1.x checkpoint with everything a pipeline needs: the ONNX-backed text encoder, UNet
// and VAE, the CLIP tokenizer and the model's noise schedule. One instance per model; `dispose()`
// releases its sessions when the user switches models. `networks` switches the model's parts to a
// request's LoRA set, embeddings and VAE.
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineNetworks } from '../lora/engine-networks.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import type { SD1Config } from '../models/config.js';
import { createEngineRuntime, type Device, type EngineRuntime } from '../runtime/ort-backend.js';
import { loadSd1Model, type Sd1Model } from '../runtime/sd1-model.js';
import { alphasCumprodFromConfig, modelScheduleFromAlphasCumprod, type ModelSchedule } from '../sampling/schedules.js';
import { findTokenizerDir, loadClipTokenizer } from '../text/clip-tokenizer.js';
import type { PromptTokenizer } from '../text/chunking.js';

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
}

export interface Sd1Engine {
  readonly path: string;
  readonly config: SD1Config;
  readonly model: Sd1Model;
  readonly tokenizer: PromptTokenizer;
  readonly schedule: ModelSchedule;
  /** LoRA, textual inversion and VAE override for this model. */
  readonly networks: EngineNetworks;
  dispose(): Promise<void>;
}

async function scheduleOf(checkpoint: Checkpoint): Promise<ModelSchedule> {
  // Single-file checkpoints carry the exact float32 buffer A1111 uses; diffusers folders do not.
  if (checkpoint.shape('alphas_cumprod')) return modelScheduleFromAlphasCumprod(await checkpoint.readFloat32('alphas_cumprod'));
  return modelScheduleFromAlphasCumprod(alphasCumprodFromConfig(checkpoint.config.schedule));
}

/**
 * Opens a checkpoint (single file or diffusers folder) and binds it to ONNX Runtime.
 *
 * @example const engine = await loadSd1Engine('models/checkpoints/v1-5.safetensors', { modelsDir: 'models' });
 */
export async function loadSd1Engine(path: string, opts: LoadEngineOptions = {}): Promise<Sd1Engine> {
  const checkpoint = await openCheckpoint(path);
  try {
    const tokenizerDir = findTokenizerDir({ explicitDir: opts.tokenizerDir, checkpointPath: path, modelsDir: opts.modelsDir });
    const [tokenizer, schedule] = await Promise.all([loadClipTokenizer(tokenizerDir), scheduleOf(checkpoint)]);
    const runtime = opts.runtime ?? (await createEngineRuntime({ device: opts.device ?? 'cpu' }));
    const model = await loadSd1Model(checkpoint, { runtime });
    const st = await stat(path);
    const networks = new EngineNetworks(model, checkpoint, `${resolve(path)}:${st.size}:${st.mtimeMs}`, tokenizer, {
      cacheDir: opts.loraCacheDir ?? join(tmpdir(), 'easel-lora-cache'),
      cacheMaxBytes: opts.loraCacheMaxBytes,
      runtime,
    });
    return {
      path,
      config: checkpoint.config,
      model,
      tokenizer,
      schedule,
      networks,
      async dispose() {
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

// A loaded SD1.x checkpoint with everything a pipeline needs: the ONNX-backed text encoder, UNet
// and VAE, the CLIP tokenizer and the model's noise schedule. One instance per model; `dispose()`
// releases its sessions when the user switches models.
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
}

export interface Sd1Engine {
  readonly path: string;
  readonly config: SD1Config;
  readonly model: Sd1Model;
  readonly tokenizer: PromptTokenizer;
  readonly schedule: ModelSchedule;
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
    return {
      path,
      config: checkpoint.config,
      model,
      tokenizer,
      schedule,
      async dispose() {
        await model.dispose();
        await checkpoint.close();
      },
    };
  } catch (err) {
    await checkpoint.close();
    throw err;
  }
}

// The engine child process the server forks. It speaks native/worker-protocol.ts; generation runs
// through GenerationService (txt2img, img2img and inpaint on SD1.x and SDXL checkpoints from $MODELS_DIR).
// Upscale runs through UpscaleService (native/upscale); ADetailer through the generation service's
// ADetailerService (native/adetailer).
import { GenerationService } from './generation-service.js';
import { UpscaleService } from './upscale/upscale-service.js';
import type { Device } from './runtime/ort-backend.js';
import { serveWorker, WorkerError, type RunHooks, type RunOutput, type WorkerCapabilities } from './worker-protocol.js';
import { enhanceBeforeGenerate, runEnhance } from './lm/enhance-service.js';
import { parsePreviewMethod } from './pipelines/live-preview.js';
import { parseEngineMemory } from './runtime/memory-mode.js';
import { runPreprocess } from './worker-preprocess.js';

/** What this build can do; flip a flag when its pipeline lands. */
export const CAPABILITIES: WorkerCapabilities = { generate: true, upscale: true, adetailer: true, lora: true, embeddings: true, vae: true, sdxl: true, enhance_prompt: true };

// Hires fix in `generate` (native/pipelines/hires.ts), set apart so the feature flags merge cleanly.
CAPABILITIES.hires = true;
// TAESD / TAESDXL live previews (native/taesd).
CAPABILITIES.taesd = true;
// ControlNet units in `generate` (native/controlnet).
CAPABILITIES.controlnet = true;
let service: GenerationService | undefined;
let upscaleService: UpscaleService | undefined;

function mebibytes(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 ? n * 1024 * 1024 : undefined;
}

/**
 * Runs one generation: progress each step through `hooks.onProgress`, a preview every
 * `hooks.previewEvery` steps, stops within one step when `hooks.signal` aborts.
 */
export async function runGeneration(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
  hooks.signal.throwIfAborted();
  return workerService().run(params, hooks);
}

/** The `adetailer` job: detect and re-inpaint faces/hands on an existing image. */
export async function runADetailerJob(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
  hooks.signal.throwIfAborted();
  return workerService().runADetailer(params, hooks);
}

function workerService(): GenerationService {
  service ??= new GenerationService({
    modelsDir: process.env.MODELS_DIR ?? 'models',
    device: (process.env.ENGINE_DEVICE === 'cuda' ? 'cuda' : 'cpu') satisfies Device,
    tokenizerDir: process.env.TOKENIZER_DIR || undefined,
    defaultVae: process.env.DEFAULT_VAE || undefined,
    loraCacheDir: process.env.LORA_CACHE_DIR || undefined,
    loraCacheMaxBytes: mebibytes(process.env.LORA_CACHE_MAX_MB),
    previewMethod: parsePreviewMethod(process.env.LIVE_PREVIEW_METHOD) ?? undefined,
    memory: parseEngineMemory(process.env.ENGINE_MEMORY),
  });
  return service;
}

function intEnv(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Runs one `upscale` job (A1111's Extras upscale) with progress per tile. */
export async function runUpscale(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
  hooks.signal.throwIfAborted();
  upscaleService ??= new UpscaleService({
    modelsDir: process.env.MODELS_DIR ?? 'models',
    device: (process.env.ENGINE_DEVICE === 'cuda' ? 'cuda' : 'cpu') satisfies Device,
    tile: intEnv(process.env.UPSCALE_TILE),
    overlap: intEnv(process.env.UPSCALE_TILE_OVERLAP),
  });
  return upscaleService.run(params, hooks);
}

async function runUnsupported(): Promise<RunOutput> {
  throw new WorkerError('engine_unavailable', 'this operation is not available in this build yet');
}

// Only serve when the supervisor started us (it sets EASEL_WORKER), so importing this module has no
// side effect even inside a forked test runner that also has an IPC channel.
if (process.env.EASEL_WORKER === '1' && process.send) {
  serveWorker({
    capabilities: CAPABILITIES,
    device: process.env.ENGINE_DEVICE ?? 'cpu',
    run: (kind, params, hooks) =>
      kind === 'generate'
        ? enhanceBeforeGenerate(params, hooks, runGeneration)
        : kind === 'upscale'
          ? runUpscale(params, hooks)
          : kind === 'adetailer'
            ? runADetailerJob(params, hooks)
            : runUnsupported(),
    enhance: runEnhance,
    preprocess: runPreprocess,
  });
}

// The engine child process the server forks. It speaks native/worker-protocol.ts; the work itself
// is `runGeneration`, the one seam the pipelines replace when they land. Until then it reports that
// it cannot generate (the server then refuses `generate` up front) and never fakes an image.
import { serveWorker, WorkerError, type RunHooks, type RunOutput, type WorkerCapabilities } from './worker-protocol.js';

/** What this build can do; flip a flag when its pipeline lands. */
export const CAPABILITIES: WorkerCapabilities = { generate: false, upscale: false, adetailer: false };

/**
 * Runs one generation. The pipelines (txt2img, img2img, inpaint) plug in here: report each step
 * through `hooks.onProgress`, a preview every `hooks.previewEvery` steps, stop when `hooks.signal` aborts.
 */
export async function runGeneration(_params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
  hooks.signal.throwIfAborted();
  throw new WorkerError('engine_unavailable', 'the image generation engine is not available in this build yet');
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
    run: (kind, params, hooks) => (kind === 'generate' ? runGeneration(params, hooks) : runUnsupported()),
  });
}

// Test double of the engine worker (never used in production): speaks the real IPC protocol,
// "generates" over `steps` steps with a delay, sends real JPEG previews and real PNGs made with
// sharp, honours cancel within a step, and crashes on request (prompt containing `__crash__`).
// FAKE_STEP_MS sets the step delay; FAKE_CAPS=none makes it report that it cannot generate;
// FAKE_IGNORE_CANCEL=1 makes it deaf to cancel; FAKE_CONTROLNET=1 reports the controlnet capability
// (runs the real model-free preprocessors, and records the units it got in the result's info). FAKE_BLOCK_MS blocks the JS thread that long in
// each step (as onnxruntime's session.run does); FAKE_PID_FILE gets the pid when a job starts.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { serveWorker, WorkerError, type RunHooks, type RunOutput, type WorkerImage } from '../../native/worker-protocol.js';

const stepMs = Number(process.env.FAKE_STEP_MS ?? '20');
const canGenerate = process.env.FAKE_CAPS !== 'none';
// Simulates a worker stuck in native code: it never looks at the abort signal.
const ignoreCancel = process.env.FAKE_IGNORE_CANCEL === '1';
const blockMs = Number(process.env.FAKE_BLOCK_MS ?? '0');
const pidFile = process.env.FAKE_PID_FILE;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// Phases like the real engine's: a model load on the first job (and when `model` changes), then
// encoding, sampling, decoding. FAKE_PHASE_MS is the time each non-sampling phase takes.
const phaseMs = Number(process.env.FAKE_PHASE_MS ?? '0');
let warmModel: string | undefined;

function solid(width: number, height: number, seed: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: (seed >> 8) % 256, b: 128 } } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 50 }).toBuffer();
}

async function run(params: Record<string, unknown>, hooks: RunHooks): Promise<RunOutput> {
  const steps = typeof params.steps === 'number' ? params.steps : 4;
  const width = typeof params.width === 'number' ? params.width : 64;
  const height = typeof params.height === 'number' ? params.height : 64;
  const count = (typeof params.batch_size === 'number' ? params.batch_size : 1) * (typeof params.n_iter === 'number' ? params.n_iter : 1);
  const seed = typeof params.seed === 'number' && params.seed >= 0 ? params.seed : 1234;
  const prompt = typeof params.prompt === 'string' ? params.prompt : '';
  if (pidFile) writeFileSync(pidFile, String(process.pid));
  // An engine error that names a file by its absolute path, as the checkpoint loader's do.
  if (prompt.includes('__missing_file__')) throw new WorkerError('model_not_found', `checkpoint not found: ${process.env.MODELS_DIR ?? ''}/checkpoints/missing.safetensors`);
  const model = typeof params.model === 'string' ? params.model : 'fake-model';
  if (warmModel !== model) {
    hooks.onPhase?.('loading_model', { fraction: 0, detail: warmModel ? `switching model to ${model}` : `loading ${model}` });
    await sleep(phaseMs);
    hooks.onPhase?.('loading_model', { fraction: 1, detail: `loading ${model}` });
    warmModel = model;
  }
  hooks.onPhase?.('encoding');
  await sleep(phaseMs);
  hooks.onPhase?.('sampling');
  for (let step = 1; step <= steps; step++) {
    if (hooks.signal.aborted && !ignoreCancel) throw new WorkerError('cancelled', 'cancelled');
    // A synchronous wait: nothing else on this thread runs meanwhile, exactly like session.run().
    if (blockMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
    await sleep(stepMs);
    if (prompt.includes('__crash__') && step === 2) process.exit(3);
    hooks.onProgress(step, steps);
    if (hooks.previewEvery > 0 && step % hooks.previewEvery === 0) hooks.onPreview(step, new Uint8Array(await solid(16, 16, step, 'jpeg')));
  }
  hooks.onPhase?.('decoding');
  await sleep(phaseMs);
  const images: WorkerImage[] = [];
  for (let i = 0; i < count; i++) images.push({ png: new Uint8Array(await solid(width, height, seed + i, 'png')), width, height, seed: seed + i });
  const controlnet = Array.isArray(params.controlnet)
    ? (params.controlnet as Record<string, unknown>[]).map((u) => ({ ...u, image: u.image instanceof Uint8Array ? u.image.byteLength : u.image }))
    : undefined;
  return { images, info: { seed, model: 'fake-model', model_hash: 'abcdef1234', ...(controlnet ? { controlnet_units: controlnet } : {}) } };
}

serveWorker({
  capabilities: { generate: canGenerate, upscale: false, adetailer: false, ...(process.env.FAKE_CONTROLNET === '1' ? { controlnet: true } : {}) },
  device: 'test-double',
  run: (kind, params, hooks) => (kind === 'generate' ? run(params, hooks) : Promise.reject(new WorkerError('engine_unavailable', 'not in the test double'))),
  // The real (model-free) preprocessors: previews are cheap and need no checkpoint.
  // Imported only when asked for, so the other tests' double starts as fast as before.
  ...(process.env.FAKE_CONTROLNET === '1' ? { preprocess: (await import('../../native/worker-preprocess.js')).runPreprocess } : {}),
});

// The engine worker's `preprocess` request (native/worker-protocol.ts): a ControlNet preprocessor
// preview for the `preprocess` socket action and POST /controlnet/detect. Decodes the image, applies
// the extension's slider defaults (modules.ts) and runs preprocessControlImage; answers the
// preprocessor's output before any resize mode as a PNG, as the extension's detect does.
import { decodeImage, encodePng } from './pipelines/resize.js';
import { controlNetModule, normalizeUnitSliders } from './controlnet/modules.js';
import { preprocessControlImage } from './controlnet/preprocess/preprocess-control-image.js';
import { ControlNetPreprocessError } from './controlnet/preprocess/preprocess-error.js';
import { WorkerError, type PreprocessOutput } from './worker-protocol.js';

/**
 * A ControlNet preprocessor preview (the `preprocess` socket action, POST /controlnet/detect): the
 * preprocessor's output before any resize mode, as the extension's detect answers it.
 */
export async function runPreprocess(params: Record<string, unknown>, signal: AbortSignal): Promise<PreprocessOutput> {
  if (!(params.image instanceof Uint8Array)) throw new WorkerError('invalid_params', 'preprocess: image bytes are required');
  const module = String(params.module ?? 'none');
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  try {
    const sliders = normalizeUnitSliders(controlNetModule(module), { processor_res: num(params.processor_res), threshold_a: num(params.threshold_a), threshold_b: num(params.threshold_b) });
    const image = await decodeImage(params.image);
    const mask = params.mask instanceof Uint8Array ? await decodeImage(params.mask) : undefined;
    signal.throwIfAborted();
    const out = preprocessControlImage(image, {
      module,
      processorRes: sliders.processor_res.value,
      thresholdA: sliders.threshold_a.value,
      thresholdB: sliders.threshold_b.value,
      pixelPerfect: false,
      resizeMode: 'Just Resize',
      width: Math.max(8, image.width),
      height: Math.max(8, image.height),
      ...(mask ? { mask } : {}),
    });
    const raw = out.detectedRaw;
    const info = { module, processor_res: sliders.processor_res.value, threshold_a: sliders.threshold_a.value, threshold_b: sliders.threshold_b.value };
    return { png: new Uint8Array(await encodePng(raw)), width: raw.width, height: raw.height, info };
  } catch (err) {
    if (err instanceof ControlNetPreprocessError) {
      throw new WorkerError(err.code === 'controlnet_module_unavailable' ? 'not_implemented' : 'invalid_params', err.message);
    }
    throw err;
  }
}

// End-to-end figures of the txt2img pipeline, used by `npm run bench:engine -- --pipeline`: seconds
// per image, the sampler's own cost per step outside the UNet (guidance, sampler arithmetic, noise),
// and the cost of one live preview. Measures; asserts nothing.
import { performance } from 'node:perf_hooks';
import { generate } from '../native/pipelines/generate.js';
import { previewJpeg } from '../native/pipelines/preview.js';
import { loadEngine, type Engine } from '../native/pipelines/engine.js';
import type { SamplerId } from '../native/sampling/names.js';

export interface PipelineBenchOptions {
  model: string;
  tokenizerDir: string;
  size: number;
  steps: number;
  sampler: SamplerId;
}

export interface PipelineBenchRow {
  what: string;
  value: string;
}

/** Times one warm txt2img run with the UNet calls timed separately, and the preview encoder. */
export async function benchPipeline(opts: PipelineBenchOptions): Promise<PipelineBenchRow[]> {
  const loaded = await loadEngine(opts.model, { tokenizerDir: opts.tokenizerDir });
  let unetMs = 0;
  let unetCalls = 0;
  let firstUnetAt = 0;
  const unet = loaded.model.unet;
  const timedEngine: Engine = {
    ...loaded,
    model: Object.assign(Object.create(Object.getPrototypeOf(loaded.model) as object) as typeof loaded.model, loaded.model, {
      unet: Object.assign(Object.create(Object.getPrototypeOf(unet) as object) as typeof unet, unet, {
        eps: async (...args: Parameters<typeof unet.eps>) => {
          const t0 = performance.now();
          if (unetCalls === 0) firstUnetAt = t0;
          try {
            return await unet.eps(...args);
          } finally {
            unetMs += performance.now() - t0;
            unetCalls++;
          }
        },
      }),
    }),
  };
  const request = {
    task: 'txt2img' as const,
    prompt: 'a photograph of an astronaut riding a horse',
    negative_prompt: '',
    width: opts.size,
    height: opts.size,
    steps: opts.steps,
    cfg_scale: 7,
    sampler: opts.sampler,
    scheduler: 'automatic' as const,
    seed: 1,
    batch_size: 1,
    n_iter: 1,
    rng: 'nv' as const,
    clip_skip: 1,
  };
  try {
    // Warm-up with one step creates every session (text encoder, UNet, VAE decoder) for this shape.
    const w0 = performance.now();
    await generate(timedEngine, { ...request, steps: 1 });
    const warmMs = performance.now() - w0;
    unetMs = 0;
    unetCalls = 0;
    let stepMarks: number[] = [];
    const t0 = performance.now();
    await generate(timedEngine, request, { onProgress: () => stepMarks.push(performance.now()) });
    const totalMs = performance.now() - t0;
    // Sampling runs from the first UNet call to the last step (text encoding comes before it).
    const samplingMs = stepMarks.length > 0 ? stepMarks[stepMarks.length - 1]! - firstUnetAt : 0;
    const overheadPerStep = (samplingMs - unetMs) / opts.steps;
    stepMarks = [];

    const latent = new Float32Array(4 * (opts.size / 8) ** 2).map((_, i) => Math.sin(i));
    const reps = 20;
    const p0 = performance.now();
    for (let i = 0; i < reps; i++) await previewJpeg(latent, { batch: 1, h: opts.size / 8, w: opts.size / 8 });
    const previewMs = (performance.now() - p0) / reps;

    return [
      { what: `first run incl. session creation (1 step, ${opts.size}²)`, value: `${(warmMs / 1000).toFixed(1)} s` },
      { what: `seconds per image, ${opts.steps} steps ${opts.sampler} at ${opts.size}² (CFG 7)`, value: `${(totalMs / 1000).toFixed(1)} s` },
      { what: 'UNet share of sampling', value: `${((100 * unetMs) / Math.max(samplingMs, 1)).toFixed(1)} % (${unetCalls} calls)` },
      { what: 'sampler overhead per step outside the UNet', value: `${overheadPerStep.toFixed(1)} ms` },
      { what: 'text encoding + VAE decode + PNG-ready pixels', value: `${((totalMs - samplingMs) / 1000).toFixed(1)} s` },
      { what: `preview (cheap latent→RGB + JPEG, ${opts.size / 8}² latent)`, value: `${previewMs.toFixed(2)} ms` },
    ];
  } finally {
    await loaded.dispose();
  }
}

// txt2img, img2img and inpaint for every model family, the A1111 way, written out top to bottom:
// prompts → conditioning (the family's: SD1 context, SDXL context + vector) → (init image → latent)
// → seed noise → sampler with CFG → VAE decode →
// 8-bit pixels → (inpaint: paste back over the original). One batch of `batch_size` images per
// `n_iter` iteration, image i with seed + i. Before any of that, the request's LoRAs (tags and
// `loras`), embeddings and VAE are put onto the model (native/lora/engine-networks.ts).
import { ControlNetRun } from '../controlnet/apply.js';
import { controlNetInfotext, controlUnitsAt, loadControlUnits, type LoadedControlUnit } from '../controlnet/units.js';
import { promptScheduleSteps } from '../sampling/registry.js';
import { type CfgImage, type CfgOptions, type ScheduledCond } from '../sampling/cfg.js';
import { LATENT_CHANNELS, type UNetEpsFn } from '../sampling/denoiser.js';
import { uint8ToUnit } from '../sampling/image.js';
import { SAMPLERS, SCHEDULERS } from '../sampling/names.js';
import { plannedSteps, runSampling } from '../sampling/run.js';
import type { SamplerStep } from '../sampling/sampler.js';
import { batchSeeds, createGenerator, resolveSeed } from '../sampling/seeds.js';
import { f32 } from '../sampling/torch-math.js';
import type { ScheduledConditioning } from '../text/conditioning.js';
import { extractLoraTags, type LoraRequest } from '../text/lora-tags.js';
import { EngineNetworks, type LoraUse } from '../lora/engine-networks.js';
import { NetworkError } from '../lora/lora-error.js';
import { decodeLatents } from './decode-latents.js';
import { pyFloat, runHiresPass, setupHires } from './hires.js';
import { compositeOverlay, makeRaster, paste, type Raster } from './image-ops.js';
import { prepareInit, type PreparedInit } from './init-image.js';
import { PipelineError } from './pipeline-error.js';
import { LivePreview } from './live-preview.js';
import { resizeRaster } from './resize.js';
import type { Engine } from './engine.js';
import type { EffectiveParams, GenerateRequest, GenerateResources, GenerateResult, GeneratedImage, PipelineHooks } from './types.js';

/** Latent state shared by every image of an img2img/inpaint run. */
interface InitLatents {
  prepared: PreparedInit;
  /** VAE posterior of the init image: mean and std, [4, h, w] each. */
  mean: Float32Array;
  std: Float32Array;
  /** A1111 p.mask (keep) and p.nmask (repaint) at latent size, [4, h, w]; null without a mask. */
  keep: Float32Array | null;
  repaint: Float32Array | null;
  /** 9-channel inpainting models: [mask; masked-image latent], [5, h, w]. */
  imageConditioning: Float32Array | null;
}

function checkRequest(req: GenerateRequest): void {
  if (req.width % 8 !== 0 || req.height % 8 !== 0) {
    throw new PipelineError('bad_input', `width and height must be multiples of 8, got ${req.width}x${req.height}`);
  }
  if (!Number.isInteger(req.steps) || req.steps < 1) throw new PipelineError('bad_input', `steps must be a positive integer, got ${req.steps}`);
  if (req.batch_size < 1 || req.n_iter < 1) throw new PipelineError('bad_input', 'batch_size and n_iter must be at least 1');
  if ((req.task === 'img2img' || req.task === 'inpaint') && !req.image) throw new PipelineError('bad_input', `task ${req.task} needs an image`);
  if (req.task === 'inpaint' && !req.mask) throw new PipelineError('bad_input', 'task inpaint needs a mask');
}

function toScheduled(s: readonly ScheduledConditioning[]): ScheduledCond[] {
  return s.map((e) => ({ endAtStep: e.endAtStep, cond: { data: e.cond.data, tokens: e.cond.tokens, vector: e.cond.vector } }));
}

/** Samples the VAE posterior with the image's own generator: A1111 draws it from torch's global RNG, which is not reproducible. */
function samplePosterior(init: InitLatents, seed: number, scale: number): Float32Array {
  const noise = createGenerator('cpu', seed).randn(init.mean.length);
  const z = new Float32Array(init.mean.length); // [4, h, w]
  const s = f32(scale);
  for (let i = 0; i < z.length; i++) z[i] = f32(s * f32(init.mean[i]! + f32(init.std[i]! * noise[i]!)));
  return z;
}

async function encodeInit(engine: Engine, req: GenerateRequest): Promise<InitLatents> {
  const prepared = await prepareInit(req);
  const { width, height } = req;
  const h = height / 8, w = width / 8, plane = h * w;
  const vae = engine.model.vae;
  const unit = uint8ToUnit(prepared.image.data, { batch: 1, height, width }); // [1, 3, H, W]
  const moments = await vae.encodeMoments(unit, { batch: 1, h, w }); // [1, 8, h, w]
  const mean = moments.slice(0, LATENT_CHANNELS * plane);
  const std = new Float32Array(LATENT_CHANNELS * plane);
  for (let i = 0; i < std.length; i++) {
    const logvar = Math.min(20, Math.max(-30, moments[LATENT_CHANNELS * plane + i]!));
    std[i] = f32(Math.exp(f32(0.5 * logvar)));
  }
  let keep: Float32Array | null = null, repaint: Float32Array | null = null, imageConditioning: Float32Array | null = null;
  if (prepared.mask) {
    // A1111: the processing mask resized to latent size (PIL bicubic), /255, rounded, tiled over 4 channels.
    const small = await resizeRaster(prepared.mask, w, h, 0);
    keep = new Float32Array(LATENT_CHANNELS * plane);
    repaint = new Float32Array(LATENT_CHANNELS * plane);
    for (let c = 0; c < LATENT_CHANNELS; c++) {
      for (let p = 0; p < plane; p++) {
        const m = Math.round(small.data[p]! / 255);
        repaint[c * plane + p] = m;
        keep[c * plane + p] = 1 - m;
      }
    }
  }
  if (engine.config.unet.in_channels === 9) {
    imageConditioning = await inpaintingConditioning(engine, prepared, unit, { h, w, width, height });
  }
  return { prepared, mean, std, keep, repaint, imageConditioning };
}

/**
 * The c_concat of 9-channel inpainting checkpoints (A1111 inpainting_image_conditioning): the rounded
 * mask at latent size and the latent of the image with the masked area set to grey (0 in [−1, 1]).
 * The posterior mode is used here (A1111 samples it from torch's unseeded global RNG).
 */
async function inpaintingConditioning(
  engine: Engine,
  prepared: PreparedInit,
  unit: Float32Array,
  d: { h: number; w: number; width: number; height: number },
): Promise<Float32Array> {
  const { h, w, width, height } = d;
  const pixels = width * height, plane = h * w;
  const maskFull = prepared.mask ?? makeRaster(width, height, 1, 255);
  const masked = new Float32Array(unit.length); // [1, 3, H, W]
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < pixels; p++) masked[c * pixels + p] = unit[c * pixels + p]! * (1 - Math.round(maskFull.data[p]! / 255));
  }
  const moments = await engine.model.vae.encodeMoments(masked, { batch: 1, h, w });
  const scale = f32(engine.latent.scaleFactor);
  const out = new Float32Array(5 * plane); // [5, h, w]
  // Nearest interpolation of the full-size mask to latent size (torch interpolate default).
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = Math.floor((y * height) / h), sx = Math.floor((x * width) / w);
      out[y * w + x] = Math.round(maskFull.data[sy * width + sx]! / 255);
    }
  }
  for (let i = 0; i < LATENT_CHANNELS * plane; i++) out[plane + i] = f32(scale * moments[i]!);
  return out;
}

/** A1111's txt2img_image_conditioning for inpainting models: mask of ones and the latent of a grey image. */
async function txt2imgInpaintingConditioning(engine: Engine, width: number, height: number): Promise<Float32Array> {
  const h = height / 8, w = width / 8, plane = h * w;
  const grey = new Float32Array(3 * width * height); // 0.5 in [0,1] → 0 in [−1, 1]
  const moments = await engine.model.vae.encodeMoments(grey, { batch: 1, h, w });
  const out = new Float32Array(5 * plane).fill(1, 0, plane);
  const scale = f32(engine.latent.scaleFactor);
  for (let i = 0; i < LATENT_CHANNELS * plane; i++) out[plane + i] = f32(scale * moments[i]!);
  return out;
}

/** Appends the image conditioning [5, h, w] to every row of x [N, 4, h, w] → [N, 9, h, w]. */
function withImageConditioning(unet: UNetEpsFn, cond: Float32Array): UNetEpsFn {
  return (x, t, context, dims, y, extra) => {
    const per = LATENT_CHANNELS * dims.h * dims.w;
    const full = new Float32Array(dims.batch * (per + cond.length));
    for (let n = 0; n < dims.batch; n++) {
      full.set(x.subarray(n * per, (n + 1) * per), n * (per + cond.length));
      full.set(cond, n * (per + cond.length) + per);
    }
    return unet(full, t, context, dims, y, extra);
  };
}

function labelOf(list: readonly { id: string; label: string }[], id: string): string {
  return list.find((e) => e.id === id)?.label ?? id;
}

/** LoRAs one generation may use (the protocol's `loras` limit; tags count too). */
export const MAX_LORAS = 7;

/** LoRAs asked for by name, in first-mention order (A1111 applies a name listed twice twice, so weights add). */
function combineLoras(tags: readonly LoraRequest[], param: readonly { name: string; weight: number }[]): { name: string; teWeight: number; unetWeight: number }[] {
  const byName = new Map<string, { name: string; teWeight: number; unetWeight: number }>();
  const add = (name: string, te: number, unet: number) => {
    const e = byName.get(name);
    if (e) {
      e.teWeight += te;
      e.unetWeight += unet;
    } else byName.set(name, { name, teWeight: te, unetWeight: unet });
  };
  for (const l of param) add(l.name, l.weight, l.weight);
  for (const t of tags) add(t.name, t.teWeight, t.unetWeight);
  return [...byName.values()];
}

async function resolveLoras(list: ReturnType<typeof combineLoras>, resources: GenerateResources): Promise<LoraUse[]> {
  if (list.length > MAX_LORAS) throw new PipelineError('bad_input', `at most ${MAX_LORAS} LoRAs at once, got ${list.length}`);
  const out: LoraUse[] = [];
  for (const l of list) {
    if (!resources.resolveLora) throw new NetworkError('lora_not_found', `LoRA "${l.name}" not found: no LoRA folder is configured`);
    out.push({ ...l, path: await resources.resolveLora(l.name) });
  }
  return out;
}

/**
 * Runs a txt2img, img2img or inpaint request to finished RGB images.
 *
 * @example const { images, params } = await generate(engine, { task: 'txt2img', prompt: 'a cat', ... }, { signal })
 */
export async function generate(engine: Engine, req: GenerateRequest, hooks: PipelineHooks = {}, resources: GenerateResources = {}): Promise<GenerateResult> {
  checkRequest(req);
  const { signal } = hooks;
  const { width, height, batch_size: batch, n_iter: nIter } = req;
  const h = height / 8, w = width / 8, per = LATENT_CHANNELS * h * w;
  const isInit = req.task !== 'txt2img';
  const strength = req.strength ?? 0.75;
  const samplerInfo = SAMPLERS.find((s) => s.id === req.sampler)!;

  // A1111 reads extra-network tags from the positive prompt only; tags in the negative prompt are
  // cut out of its text and not applied.
  const positive = extractLoraTags(req.prompt);
  const negative = extractLoraTags(req.negative_prompt);
  const loras = await resolveLoras(combineLoras(positive.loras, req.loras ?? []), resources);
  const networks = await engine.networks.apply({ loras, embeddingsDir: resources.embeddingsDir, vae: resources.vae });
  const seed = resolveSeed(req.seed);
  const allSeeds = batchSeeds(seed, batch * nIter);
  const controlUnits = await loadRequestControlUnits(engine, req, resources);

  hooks.onPhase?.('encoding');
  // Conditioning, shared by every image (same prompt): schedules over the sampler's call count.
  const condCtx = { clipSkip: req.clip_skip, embeddings: networks.embeddings, width, height };
  const scheduleSteps = promptScheduleSteps(req.sampler, req.steps);
  const [[parts], [uncondSchedule]] = await Promise.all([
    engine.conditioner.multicond([positive.prompt], scheduleSteps, condCtx),
    engine.conditioner.learned([negative.prompt], scheduleSteps, { ...condCtx, isNegative: true }),
  ]);
  const cfgImage: CfgImage = {
    conds: parts!.map((p) => ({ weight: p.weight, schedule: toScheduled(p.schedule) })),
    uncond: toScheduled(uncondSchedule!),
  };
  const hires = await setupHires(engine, req, condCtx, positive.loras.map((l) => l.name), resources);

  const init = isInit ? await encodeInit(engine, req) : null;
  let imageConditioning = init?.imageConditioning ?? null;
  if (!init && engine.config.unet.in_channels === 9) imageConditioning = await txt2imgInpaintingConditioning(engine, width, height);
  const rawUnet: UNetEpsFn = (x, t, ctx, dims, y, extra) => engine.model.unet.eps(x, t, ctx, dims, y, extra?.residuals);
  const unet = imageConditioning ? withImageConditioning(rawUnet, imageConditioning) : rawUnet;
  // The hires pass of a 9-channel model gets A1111's txt2img conditioning at the new size.
  const hiresUnetPlain = async (hh: number, ww: number): Promise<UNetEpsFn> =>
    engine.config.unet.in_channels === 9 ? withImageConditioning(rawUnet, await txt2imgInpaintingConditioning(engine, ww * 8, hh * 8)) : rawUnet;
  // ControlNet: one run per sampling pass; A1111's state.sampling_steps is the pass's step count
  // (img2img and the hires pass: t_enc + 1) and sampling_step restarts at 0.
  let controlRun: ControlNetRun | undefined;
  const hiresUnet = async (hh: number, ww: number): Promise<UNetEpsFn> => {
    const inner = await hiresUnetPlain(hh, ww);
    if (!controlUnits.length || !hires) return inner;
    controlRun = new ControlNetRun(controlUnitsAt(controlUnits, ww * 8, hh * 8, true), hires.plan.tEnc + 1, hooks.onControlNetResiduals);
    return controlRun.wrap(inner);
  };
  const firstPassSteps = isInit ? Math.trunc(Math.min(strength, 0.999) * req.steps) + 1 : req.steps;

  const stepsPerBatch = plannedSteps({ sampler: req.sampler, scheduler: req.scheduler, steps: req.steps, schedule: engine.schedule, strength: isInit ? strength : undefined });
  const stepsPerIter = stepsPerBatch + (hires?.plan.plannedSteps ?? 0);
  const total = stepsPerIter * nIter;
  const fill = req.inpainting_fill ?? 'original';
  const noiseMultiplier = isInit ? (req.initial_noise_multiplier ?? 1) : 1;

  const images: GeneratedImage[] = [];
  let previews: Promise<void> = Promise.resolve();
  const live = new LivePreview(engine, resources.preview);
  for (let iter = 0; iter < nIter; iter++) {
    const seeds = allSeeds.slice(iter * batch, (iter + 1) * batch);
    controlRun = controlUnits.length ? new ControlNetRun(controlUnitsAt(controlUnits, width, height), firstPassSteps, hooks.onControlNetResiduals) : undefined;
    const cfg: CfgOptions = {
      unet: controlRun ? controlRun.wrap(unet) : unet,
      images: seeds.map(() => cfgImage),
      cfgScale: req.cfg_scale,
      contextDim: engine.config.unet.context_dim,
      vectorDim: engine.config.unet.adm_in_channels,
      h,
      w,
    };
    const stepper = (offset: number, steps: number, ph: number, pw: number) => (s: SamplerStep) => {
      controlRun?.onStep(s.index);
      const step = iter * stepsPerIter + offset + s.index + 1;
      hooks.onProgress?.(step, total);
      const every = hooks.previewEvery ?? 0;
      if (every > 0 && hooks.onPreview && (s.index + 1) % every === 0 && s.index + 1 < steps) {
        const denoised = s.denoised;
        previews = previews.then(async () => {
          const { jpeg } = await live.render(denoised, { batch, h: ph, w: pw });
          hooks.onPreview?.(step, jpeg);
        });
      }
    };
    // The init latent per image: the posterior sampled with the image's seed, and for "latent
    // noise" / "latent nothing" the masked area replaced by the seed noise / zeros (A1111 init()).
    const initLatent = (seedNoise: Float32Array): Float32Array => {
      const out = new Float32Array(batch * per); // [B, 4, h, w]
      seeds.forEach((sd, i) => out.set(samplePosterior(init!, sd, engine.latent.scaleFactor), i * per));
      if (init!.keep && init!.repaint && (fill === 'latent_noise' || fill === 'latent_nothing')) {
        for (let i = 0; i < out.length; i++) {
          const k = i % per;
          const replacement = fill === 'latent_noise' ? seedNoise[i]! : 0;
          out[i] = f32(f32(out[i]! * init!.keep[k]!) + f32(replacement * init!.repaint[k]!));
        }
      }
      return out;
    };
    const onStep = stepper(0, stepsPerBatch, h, w);
    const mask = init?.keep && init.repaint ? { keep: init.keep, repaint: init.repaint } : undefined;
    hooks.onPhase?.('sampling');
    const { samples } = await runSampling({
      sampler: req.sampler,
      scheduler: req.scheduler,
      steps: req.steps,
      schedule: engine.schedule,
      cfg,
      seeds,
      rng: req.rng,
      img2img: init ? { initLatent, strength, mask, noiseMultiplier } : undefined,
      signal,
      onStep,
    });
    if (signal?.aborted) throw new PipelineError('cancelled', 'generation was cancelled');

    let final = { samples, h, w };
    if (hires) {
      let firstImages: Promise<Raster[]> | undefined;
      const decodeFirst = () => (firstImages ??= decodeLatents(engine, samples, batch, h, w));
      final = await runHiresPass({
        engine, plan: hires.plan, samples, h, w, firstImages: decodeFirst, seeds, rng: req.rng, cfgImage: hires.cfgImage, cfgScale: req.cfg_scale,
        unetFor: hiresUnet, upscaleImage: resources.upscaleImage, signal, onStep: stepper(stepsPerBatch, hires.plan.plannedSteps, hires.plan.target.height / 8, hires.plan.target.width / 8),
      });
      if (hires.plan.saveFirstPass) (await decodeFirst()).forEach((rgb, i) => images.push({ rgb, seed: seeds[i]!, firstPass: true }));
    }
    // Decode one image at a time, as A1111's decode_latent_batch does (bounded memory).
    hooks.onPhase?.('decoding');
    const rgbs = await decodeLatents(engine, final.samples, batch, final.h, final.w);
    for (const [i, rgb] of rgbs.entries()) {
      images.push({ rgb: init?.prepared.overlay ? await applyOverlay(rgb, init.prepared) : rgb, seed: seeds[i]! });
    }
  }
  await previews;

  const params: EffectiveParams = {
    prompt: req.prompt,
    negative_prompt: req.negative_prompt,
    prompt_for_model: positive.prompt,
    loras: loras.map((l) => ({ name: l.name, weight: l.teWeight })),
    lora_hashes: networks.loraHashes,
    ti_hashes: await EngineNetworks.tiHashes(networks.usedEmbeddings),
    vae: networks.vae?.name,
    vae_hash: networks.vae?.hash,
    seed,
    all_seeds: allSeeds,
    steps: req.steps,
    sampler: req.sampler,
    sampler_label: samplerInfo.label,
    scheduler: req.scheduler,
    // A1111 writes the scheduler label it resolved, "Automatic" staying "Automatic".
    scheduler_label: labelOf(SCHEDULERS, req.scheduler),
    cfg_scale: req.cfg_scale,
    width: init?.prepared.pasteTo ? init.prepared.outWidth : width,
    height: init?.prepared.pasteTo ? init.prepared.outHeight : height,
    clip_skip: req.clip_skip,
    rng: req.rng,
    denoising_strength: isInit ? strength : hires?.plan.denoisingStrength,
    // The extension writes its units in process(), before img2img/hires init() adds theirs;
    // A1111 adds `Noise multiplier` in sample(), after init()'s inpaint keys.
    extra: [
      ...controlNetInfotext(controlUnits),
      ...(init?.prepared.extra ?? []),
      ...(noiseMultiplier !== 1 ? [['Noise multiplier', pyFloat(noiseMultiplier)] as [string, string]] : []),
      ...(hires?.plan.infotext ?? []),
    ],
    hires: hires ? { width: hires.plan.target.width, height: hires.plan.target.height } : undefined,
  };
  return { images, params };
}

/** Puts the generated pixels back under the untouched original (A1111 apply_overlay + uncrop). */
async function applyOverlay(rgb: Raster, prepared: PreparedInit): Promise<Raster> {
  let base = rgb;
  if (prepared.pasteTo) {
    const { x1, y1, x2, y2 } = prepared.pasteTo;
    const scaled = await resizeRaster(rgb, x2 - x1, y2 - y1, 1);
    base = makeRaster(prepared.outWidth, prepared.outHeight, 3);
    paste(base, scaled, x1, y1);
  }
  return compositeOverlay(base, prepared.overlay!);
}

/** The request's enabled ControlNet units, loaded and preprocessed at the first-pass size (none: []). */
async function loadRequestControlUnits(engine: Engine, req: GenerateRequest, resources: GenerateResources): Promise<LoadedControlUnit[]> {
  if (!req.controlnet?.length) return [];
  if (!engine.controlnets) throw new PipelineError('bad_input', 'this engine cannot load ControlNets');
  return loadControlUnits(req, { resolveControlNet: resources.resolveControlNet, cache: engine.controlnets, family: engine.family });
}

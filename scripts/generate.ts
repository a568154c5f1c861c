// `npm run -s generate -- --model FILE --prompt TEXT ... --out FILE.png`: the engine without the
// server. Writes PNGs with the A1111 infotext in their `parameters` chunk; with several images the
// second and later get `-1`, `-2`, ... before the extension.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from '../native/pipelines/generate.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';
import { hiresUpscalers } from '../native/pipelines/hires-upscalers.js';
import { encodePng } from '../native/pipelines/resize.js';
import { loadEngine } from '../native/pipelines/engine.js';
import type { ControlNetUnitRequest, GenerateRequest, HiresOptions, MaskedContent } from '../native/pipelines/types.js';
import { modelShortHash } from '../native/models/model-hash.js';
import { findScheduler, resolveSampler, type SamplerId, type SchedulerId } from '../native/sampling/names.js';
import { formatInfotext, withPngTextChunk } from '../server/infotext/index.js';

const HELP = `Usage: npm run -s generate -- --model FILE --prompt TEXT --out FILE.png [options]

  --model FILE             checkpoint (.safetensors single file or diffusers folder)
  --prompt TEXT            prompt, A1111 syntax: (word:1.2) [word] BREAK [a:b:0.5] [a|b]
  --negative-prompt TEXT   negative prompt (default "")
  --seed N                 seed, -1 for random (default -1)
  --steps N                sampling steps (default 20)
  --cfg X                  CFG scale (default 7)
  --sampler NAME           id or A1111 name: euler, "Euler a", "DPM++ 2M", "DPM++ 2M Karras", ... (default "Euler a")
  --scheduler NAME         automatic, uniform, normal, karras, exponential, sgm_uniform, simple (or A1111 labels)
  --width N --height N     multiples of 8 (default 512)
  --batch-size N           images per batch (default 1)
  --n-iter N               batches (default 1)
  --rng cpu|nv             seed source: torch CPU (ComfyUI) or A1111's NV/GPU (default nv)
  --clip-skip N            (default 1)
  --tokenizer DIR          CLIP tokenizer folder (vocab.json + merges.txt)
  --models-dir DIR         models root for the shared tokenizer (default $MODELS_DIR or ./models)
  --init-image PNG         img2img source image
  --strength X             denoising strength (default 0.75)
  --mask PNG               inpaint mask (white = repaint); implies inpainting
  --mask-blur N            (default 4)
  --inpaint-full-res       inpaint only the masked area
  --padding N              only-masked padding in pixels (default 32)
  --masked-content MODE    original | fill | latent_noise | latent_nothing (default original)
  --enable-hr              hires fix (txt2img): upscale the first pass, then an img2img second pass
  --hr-scale X             upscale by X when --hr-resize-x/-y are 0 (default 2)
  --hr-resize-x W          target width (0 = unset)
  --hr-resize-y H          target height (0 = unset); both set: upscale to cover, then crop
  --hr-upscaler NAME       Latent, "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)",
                           "Latent (nearest)", "Latent (nearest-exact)", None, Lanczos, Nearest or an upscaler
                           file name without extension (default Latent)
  --hr-second-pass-steps N second pass steps (0 = --steps)
  --denoising-strength X   second pass denoising strength (default 0.7; also img2img's when --strength is unset)
  --hr-sampler NAME        second pass sampler (default: --sampler)
  --hr-scheduler NAME      second pass scheduler (default: --scheduler)
  --hr-prompt TEXT         second pass prompt ("" = --prompt)
  --hr-negative-prompt TEXT second pass negative prompt ("" = --negative-prompt)
  --upscalers-dir DIR      upscaler model files (default <models-dir>/upscalers)
  --save-first-pass        also write the first-pass image as OUT-first-pass.png
  --controlnet FILE        starts a ControlNet unit with this model file (.safetensors/.pth, or a diffusers
                           folder); up to 3 units, each --control-* flag applies to the last --controlnet
  --control-image PNG      the unit's control image (required)
  --control-module NAME    preprocessor: canny, none, invert, ... (default none)
  --control-weight X       (default 1.0)
  --control-start X        guidance start, 0..1 (default 0.0)
  --control-end X          guidance end, 0..1 (default 1.0)
  --control-mode MODE      balanced | prompt | controlnet (default balanced)
  --control-resize MODE    "Just Resize" | "Crop and Resize" | "Resize and Fill" (default "Crop and Resize")
  --control-processor-res N  preprocessor resolution (default: the module's)
  --control-threshold-a X  --control-threshold-b X   preprocessor thresholds (default: the module's)
  --control-pixel-perfect  pick the processor resolution from the image and target sizes
  --device cpu|cuda        execution provider (default cpu)
  --out FILE.png           output path
  --help`;

class CliError extends Error {}

function int(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`--${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

function float(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

const MASKED: readonly MaskedContent[] = ['original', 'fill', 'latent_noise', 'latent_nothing'];

export interface CliOptions {
  model: string;
  out: string;
  tokenizer?: string;
  modelsDir: string;
  device: 'cpu' | 'cuda';
  upscalersDir: string;
  request: Omit<GenerateRequest, 'image' | 'mask'>;
  initImage?: string;
  mask?: string;
  /** ControlNet units: the request fields plus the control image path (model = the file path). */
  controlnet: CliControlUnit[];
}

export interface CliControlUnit extends Omit<ControlNetUnitRequest, 'image'> {
  imagePath?: string;
}

/** Parses argv into a request; throws CliError with a message naming the bad flag. */
export function parseCli(argv: string[]): CliOptions | 'help' {
  const { values, tokens } = parseArgs({
    args: argv,
    strict: true,
    tokens: true,
    options: {
      ...CONTROL_FLAGS,
      model: { type: 'string' }, prompt: { type: 'string' }, 'negative-prompt': { type: 'string' }, seed: { type: 'string' },
      steps: { type: 'string' }, cfg: { type: 'string' }, sampler: { type: 'string' }, scheduler: { type: 'string' },
      width: { type: 'string' }, height: { type: 'string' }, 'batch-size': { type: 'string' }, 'n-iter': { type: 'string' },
      rng: { type: 'string' }, 'clip-skip': { type: 'string' }, tokenizer: { type: 'string' }, 'models-dir': { type: 'string' },
      'init-image': { type: 'string' }, strength: { type: 'string' }, mask: { type: 'string' }, 'mask-blur': { type: 'string' },
      'inpaint-full-res': { type: 'boolean' }, padding: { type: 'string' }, 'masked-content': { type: 'string' },
      device: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
      'enable-hr': { type: 'boolean' }, 'hr-scale': { type: 'string' }, 'hr-second-pass-steps': { type: 'string' },
      'denoising-strength': { type: 'string' }, 'hr-resize-x': { type: 'string' }, 'hr-resize-y': { type: 'string' },
      'hr-upscaler': { type: 'string' }, 'hr-sampler': { type: 'string' }, 'hr-scheduler': { type: 'string' },
      'hr-prompt': { type: 'string' }, 'hr-negative-prompt': { type: 'string' }, 'upscalers-dir': { type: 'string' },
      'save-first-pass': { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const controlnet = parseControlUnits(tokens ?? []);
  if (!values.model) throw new CliError('--model is required');
  if (!values.out) throw new CliError('--out is required');
  if (values.prompt === undefined) throw new CliError('--prompt is required');
  const sampler = resolveSampler(values.sampler ?? 'Euler a');
  if (!sampler) throw new CliError(`unknown --sampler ${JSON.stringify(values.sampler)}`);
  let scheduler = sampler.scheduler?.id ?? 'automatic';
  if (values.scheduler !== undefined) {
    const s = findScheduler(values.scheduler);
    if (!s) throw new CliError(`unknown --scheduler ${JSON.stringify(values.scheduler)}`);
    scheduler = s.id;
  }
  const rng = values.rng ?? 'nv';
  if (rng !== 'cpu' && rng !== 'nv') throw new CliError(`--rng must be cpu or nv, got ${JSON.stringify(rng)}`);
  const device = values.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new CliError(`--device must be cpu or cuda, got ${JSON.stringify(device)}`);
  const masked = (values['masked-content'] ?? 'original') as MaskedContent;
  if (!MASKED.includes(masked)) throw new CliError(`--masked-content must be one of ${MASKED.join(', ')}`);
  if (values.mask && !values['init-image']) throw new CliError('--mask needs --init-image');
  const task = values.mask ? 'inpaint' : values['init-image'] ? 'img2img' : 'txt2img';
  const denoising = float('denoising-strength', values['denoising-strength'], 0.7);
  const hires = parseHires(values, denoising);
  if (hires && task !== 'txt2img') throw new CliError('--enable-hr is for txt2img only (no --init-image or --mask)');
  const modelsDir = values['models-dir'] ?? process.env.MODELS_DIR ?? 'models';
  return {
    model: values.model,
    out: values.out,
    tokenizer: values.tokenizer,
    modelsDir,
    device,
    upscalersDir: values['upscalers-dir'] ?? join(modelsDir, 'upscalers'),
    initImage: values['init-image'],
    mask: values.mask,
    controlnet,
    request: {
      task,
      prompt: values.prompt,
      negative_prompt: values['negative-prompt'] ?? '',
      seed: int('seed', values.seed, -1),
      steps: int('steps', values.steps, 20),
      cfg_scale: float('cfg', values.cfg, 7),
      sampler: sampler.sampler.id,
      scheduler,
      width: int('width', values.width, 512),
      height: int('height', values.height, 512),
      batch_size: int('batch-size', values['batch-size'], 1),
      n_iter: int('n-iter', values['n-iter'], 1),
      rng,
      clip_skip: int('clip-skip', values['clip-skip'], 1),
      strength: float('strength', values.strength, values['denoising-strength'] !== undefined ? denoising : 0.75),
      mask_blur: int('mask-blur', values['mask-blur'], 4),
      inpaint_full_res: values['inpaint-full-res'] ?? false,
      inpaint_full_res_padding: int('padding', values.padding, 32),
      inpainting_fill: masked,
      hires,
    },
  };
}

const CONTROL_FLAGS = {
  controlnet: { type: 'string', multiple: true }, 'control-image': { type: 'string', multiple: true }, 'control-module': { type: 'string', multiple: true },
  'control-weight': { type: 'string', multiple: true }, 'control-start': { type: 'string', multiple: true }, 'control-end': { type: 'string', multiple: true },
  'control-mode': { type: 'string', multiple: true }, 'control-resize': { type: 'string', multiple: true },
  'control-processor-res': { type: 'string', multiple: true }, 'control-threshold-a': { type: 'string', multiple: true },
  'control-threshold-b': { type: 'string', multiple: true }, 'control-pixel-perfect': { type: 'boolean', multiple: true },
} as const;

const CONTROL_MODE_FLAGS: Record<string, NonNullable<ControlNetUnitRequest['control_mode']>> = {
  balanced: 'Balanced',
  prompt: 'My prompt is more important',
  controlnet: 'ControlNet is more important',
};
const RESIZE_FLAGS: readonly NonNullable<ControlNetUnitRequest['resize_mode']>[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];

type ArgToken = { kind: string; name?: string; value?: string | undefined };

/** The ControlNet flags in argv order: each --controlnet starts a unit, later --control-* flags set its fields. */
function parseControlUnits(tokens: readonly ArgToken[]): CliControlUnit[] {
  const units: CliControlUnit[] = [];
  for (const t of tokens) {
    if (t.kind !== 'option' || !t.name || !(t.name in CONTROL_FLAGS)) continue;
    const flag = t.name;
    if (flag === 'controlnet') {
      units.push({ model: t.value ?? '' });
      continue;
    }
    const u = units[units.length - 1];
    if (!u) throw new CliError(`--${flag} must follow a --controlnet FILE`);
    const v = t.value ?? '';
    switch (flag) {
      case 'control-image': u.imagePath = v; break;
      case 'control-module': u.module = v; break;
      case 'control-weight': u.weight = float(flag, v, 1); break;
      case 'control-start': u.guidance_start = float(flag, v, 0); break;
      case 'control-end': u.guidance_end = float(flag, v, 1); break;
      case 'control-processor-res': u.processor_res = int(flag, v, -1); break;
      case 'control-threshold-a': u.threshold_a = float(flag, v, -1); break;
      case 'control-threshold-b': u.threshold_b = float(flag, v, -1); break;
      case 'control-pixel-perfect': u.pixel_perfect = true; break;
      case 'control-mode': {
        const m = CONTROL_MODE_FLAGS[v.toLowerCase()] ?? (Object.values(CONTROL_MODE_FLAGS).includes(v as never) ? (v as CliControlUnit['control_mode']) : undefined);
        if (!m) throw new CliError(`--control-mode must be balanced, prompt or controlnet, got ${JSON.stringify(v)}`);
        u.control_mode = m;
        break;
      }
      case 'control-resize': {
        const r = RESIZE_FLAGS.find((m) => m.toLowerCase() === v.toLowerCase());
        if (!r) throw new CliError(`--control-resize must be one of ${RESIZE_FLAGS.map((m) => `"${m}"`).join(', ')}, got ${JSON.stringify(v)}`);
        u.resize_mode = r;
        break;
      }
    }
  }
  units.forEach((u, i) => {
    if (!u.model) throw new CliError(`--controlnet (unit ${i}) needs a file`);
    if (!u.imagePath) throw new CliError(`ControlNet unit ${i} (--controlnet ${u.model}) needs --control-image PNG`);
  });
  if (units.length > 3) throw new CliError(`at most 3 --controlnet units, got ${units.length}`);
  return units;
}

/** The hires flags (A1111 API semantics: 0 / "" = unset); undefined without --enable-hr. */
function parseHires(values: Record<string, string | boolean | readonly (string | boolean)[] | undefined>, denoising: number): HiresOptions | undefined {
  const s = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (!values['enable-hr']) {
    const stray = ['hr-scale', 'hr-second-pass-steps', 'hr-resize-x', 'hr-resize-y', 'hr-upscaler', 'hr-sampler', 'hr-scheduler', 'hr-prompt', 'hr-negative-prompt'].find((k) => s(k) !== undefined);
    if (stray) throw new CliError(`--${stray} needs --enable-hr`);
    return undefined;
  }
  let sampler: SamplerId | undefined;
  let scheduler: SchedulerId | undefined;
  if (s('hr-sampler') !== undefined) {
    const r = resolveSampler(s('hr-sampler')!);
    if (!r) throw new CliError(`unknown --hr-sampler ${JSON.stringify(s('hr-sampler'))}`);
    sampler = r.sampler.id;
    scheduler = r.scheduler?.id;
  }
  if (s('hr-scheduler') !== undefined) {
    const r = findScheduler(s('hr-scheduler')!);
    if (!r) throw new CliError(`unknown --hr-scheduler ${JSON.stringify(s('hr-scheduler'))}`);
    scheduler = r.id;
  }
  return {
    enabled: true,
    scale: float('hr-scale', s('hr-scale'), 2),
    width: int('hr-resize-x', s('hr-resize-x'), 0),
    height: int('hr-resize-y', s('hr-resize-y'), 0),
    upscaler: s('hr-upscaler') ?? null,
    steps: int('hr-second-pass-steps', s('hr-second-pass-steps'), 0),
    denoising_strength: denoising,
    sampler,
    scheduler,
    prompt: s('hr-prompt') ?? '',
    negative_prompt: s('hr-negative-prompt') ?? '',
    save_first_pass: values['save-first-pass'] === true,
  };
}

function firstPassPath(out: string): string {
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}-first-pass${ext}`;
}

function outputPath(out: string, index: number): string {
  if (index === 0) return out;
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}-${index}${ext}`;
}

export async function runCli(argv: string[]): Promise<string[]> {
  const opts = parseCli(argv);
  if (opts === 'help') {
    console.log(HELP);
    return [];
  }
  const request: GenerateRequest = {
    ...opts.request,
    image: opts.initImage ? await readFile(opts.initImage) : undefined,
    mask: opts.mask ? await readFile(opts.mask) : undefined,
    controlnet: opts.controlnet.length
      ? await Promise.all(opts.controlnet.map(async ({ imagePath, ...u }) => ({ ...u, image: await readFile(imagePath!) })))
      : undefined,
  };
  const engine = await loadEngine(opts.model, { tokenizerDir: opts.tokenizer, modelsDir: opts.modelsDir, device: opts.device });
  const upscalers = hiresUpscalers({ upscalersDir: opts.upscalersDir, device: opts.device });
  try {
    // --controlnet names files directly: the unit's model is its path.
    const resources = { ...upscalers, resolveControlNet: (name: string) => name };
    const [result, hash] = await Promise.all([generate(engine, request, {}, resources), modelShortHash(opts.model).catch(() => undefined)]);
    const p = result.params;
    const written: string[] = [];
    let finals = 0, firsts = 0;
    for (const img of result.images) {
      const infotext = formatInfotext({
        prompt: p.prompt,
        negative_prompt: p.negative_prompt,
        steps: p.steps,
        sampler: p.sampler,
        scheduler: p.scheduler,
        cfg_scale: p.cfg_scale,
        seed: img.seed,
        // A1111's Size is the first pass's (p.width × p.height), also for hires-fixed images.
        width: p.width,
        height: p.height,
        model_hash: hash,
        model: basename(opts.model, extname(opts.model)),
        denoising_strength: p.denoising_strength,
        clip_skip: p.clip_skip,
        rng: p.rng,
        extra: p.extra,
        // The flags are A1111 API fields, so floats print as the API writes them (`7.0`).
        python_floats: true,
      });
      const png = withPngTextChunk(await encodePng(img.rgb), 'parameters', infotext);
      const path = img.firstPass ? outputPath(firstPassPath(opts.out), firsts++) : outputPath(opts.out, finals++);
      await writeFile(`${path}.tmp`, png);
      await rename(`${path}.tmp`, path);
      written.push(path);
    }
    return written;
  } finally {
    await upscalers.dispose();
    await engine.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  reexecWithHugePages();
  runCli(process.argv.slice(2)).then(
    (paths) => {
      for (const p of paths) console.log(p);
    },
    (err: unknown) => {
      console.error(err instanceof CliError ? `generate: ${err.message}\n\n${HELP}` : `generate: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

// Benchmark of one ADetailer face fix end to end in the engine worker's GenerationService: a
// txt2img generation of --size² at --steps, then one ADetailer face fix of its image (a
// random-weight face_yolov8n-architecture detector, top-1 detection, ADetailer's defaults:
// inpaint only masked at the image's size, denoising 0.4 — A1111's int(0.4·steps)+1 sampler steps —
// plus a VAE encode and decode), each timed warm after a first untimed run; the fix is reported in
// seconds and as a fraction of the base generation. Prints a table; asserts nothing (except that
// exactly one face was fixed).
//
// Usage: npm run bench:adetailer -- --model FILE.safetensors [--steps N] [--size N] [--tokenizer DIR]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GenerationService } from '../native/generation-service.js';
import { writeRandomYolo } from '../native/detect/random-yolo.js';
import { sd1TinyPath } from '../native/testing/fixtures.js';
import type { RunHooks } from '../native/worker-protocol.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const HELP = `bench-adetailer: time one ADetailer face fix against the base generation

  --model FILE      SD checkpoint (e.g. a random SD1.5 from npm run make:sd15) (required)
  --steps N         sampler steps of the base image (default 4)
  --size N          square image side (default 512)
  --tokenizer DIR   CLIP tokenizer (default ../shared/fixtures/sd1-tiny/tokenizer)
  --help            show this text`;

reexecWithHugePages();
runMain(async () => {
  const flags = parseFlags({ model: { type: 'string' }, steps: { type: 'string', default: '4' }, size: { type: 'string', default: '512' }, tokenizer: { type: 'string' } }, HELP);
  if (!flags) return 0;
  if (!flags.model) throw new Error('--model is required');
  const root = mkdtempSync(join(tmpdir(), 'easel-bench-adetailer-'));
  try {
    const models = join(root, 'models');
    const tok = join(models, 'tokenizers', 'clip-vit-large-patch14');
    for (const d of ['checkpoints', 'detectors', tok]) mkdirSync(resolve(models, d), { recursive: true });
    symlinkSync(resolve(flags.model), join(models, 'checkpoints', 'model.safetensors'));
    const tokDir = flags.tokenizer ?? sd1TinyPath('tokenizer');
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(tokDir, f), join(tok, f));
    await writeRandomYolo(join(models, 'detectors', 'face_yolov8n.safetensors'), { scale: 'n', nc: 1, names: ['face'] });

    const service = new GenerationService({ modelsDir: models, device: 'cpu' });
    const steps = Number(flags.steps), size = Number(flags.size);
    const base = { model: 'model.safetensors', prompt: 'a portrait photo of a woman', negative_prompt: '', width: size, height: size, steps, cfg_scale: 7, sampler: 'euler', scheduler: 'automatic', seed: 1, rng: 'cpu' };
    // Random weights score every box ≈ 0.018: confidence 0.01 and top-1 give exactly one face to fix.
    const unit = { ad_model: 'face_yolov8n.safetensors', ad_confidence: 0.01, ad_mask_k: 1 };
    // ADetailer reports (0, masks) once it has detected; the sampler's steps start at 1.
    let masks = -1;
    const hooks: RunHooks = { signal: new AbortController().signal, previewEvery: 0, onProgress: (step, total) => void (step === 0 && (masks = total)), onPreview: () => undefined };
    const timed = async (run: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      await run();
      return (performance.now() - t) / 1000;
    };
    // Each figure is printed as soon as it is known, so a run cut short still reports something.
    console.log(`CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, load average ${loadavg()[0].toFixed(2)}`);
    console.log(`| run (${size}², ${steps} steps, Euler, CFG 7) | s |\n| --- | ---: |`);
    let image: Uint8Array | undefined;
    const generate = async () => (image = (await service.run(base, hooks)).images[0]!.png);
    // The fix alone is the `adetailer` job on the generated image: detection + the inpaint pass,
    // exactly what ADetailer adds to a generation.
    const fix = () => service.runADetailer({ ...base, image, units: [unit] }, hooks);
    console.log(`| first generation (model load, sessions) | ${(await timed(generate)).toFixed(1)} |`);
    console.log(`| first face fix (detector load, VAE encoder session) | ${(await timed(fix)).toFixed(1)} |`);
    const baseS = await timed(generate);
    console.log(`| base generation, warm | ${baseS.toFixed(1)} |`);
    masks = -1;
    const fixS = await timed(fix);
    if (masks !== 1) throw new Error(`expected exactly one face to fix, the detector gave ${masks} masks`);
    const passSteps = Math.trunc(0.4 * steps) + 1; // A1111 k-diffusion img2img: t_enc + 1 steps
    console.log(`| one face fix, warm (detect + ${passSteps}-step inpaint pass + VAE encode/decode) | ${fixS.toFixed(1)} (${(fixS / baseS).toFixed(2)} × base) |`);
    await service.dispose();
    return 0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

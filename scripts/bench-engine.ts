// Benchmark of the ONNX engine on this machine's CPU (fp32): checkpoint load and session creation,
// peak resident memory, UNet time per evaluation at 64×64 latents with batch 2 (one CFG step at
// 512×512), VAE decode and encode at 512×512. Prints a table; asserts nothing.
//
// Usage: npm run bench:engine -- [--family sd1|sdxl] [--model FILE] [--skip-vae] [--skip-encode] [--runs N] [--latent N] [--batch N] [--threads N]
//        [--tiled-size N | --skip-tiled] [--compare-export DIR [--compare-sizes 64,32,8]]
// Without --model it benchmarks a full-size random SD1.5 (or, with --family sdxl, SDXL base)
// checkpoint: $EASEL_BENCH_SD15 / $EASEL_BENCH_SDXL if set, else one made once by
// scripts/make-random-sd15.ts / make-random-sdxl.ts in the temp folder and reused afterwards.
import { clipLConfig } from '../native/models/config.js';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../native/models/checkpoint.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { loadDiffusionModel } from '../native/runtime/diffusion-model.js';
import { SD1_TINY_DIR } from '../native/testing/fixtures.js';
import { benchPipeline } from './bench-pipeline.js';
import { benchEngineLoad } from './bench-engine-load.js';
import { BENCH_MODEL_DIR, defaultModel } from './bench-model.js';
import { compareWithExport, formatCompare, median, randomValues } from './bench-compare-export.js';
import { peakRssSinceReset, resetPeakRss } from './bench-rss.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const HELP = `bench-engine: time the engine on the CPU

  --family sd1|sdxl the default model's family (default sd1)
  --model FILE      checkpoint to load (default: $EASEL_BENCH_SD15 / $EASEL_BENCH_SDXL, or a random
                    full-size SD1.5 / SDXL base made with scripts/make-random-sd15.ts / make-random-sdxl.ts
                    in ${BENCH_MODEL_DIR})
  --latent N        latent size (default 64 = 512×512 images)
  --batch N         UNet batch (default 2 = cond + uncond of one CFG step)
  --runs N          UNet evaluations to time after a warm-up one (default 3)
  --threads N       ONNX Runtime intra-op threads (default: one per core)
  --skip-vae        skip VAE decode and encode
  --skip-encode     skip VAE encode only
  --tiled-size N    also time a tiled VAE decode and encode of an N×N image, with its own peak RSS
                    (default 2048; the tiles and threshold of native/vae/tiled-vae.ts)
  --skip-tiled      skip the tiled decode and encode
  --skip-unet       skip the UNet rows
  --vae-runs N      VAE decodes/encodes timed after a warm-up one (default 2)
  --compare-export DIR
                    instead of the UNet/VAE rows above, time Easel against the torch.onnx.export graphs in
                    DIR (../shared/tools/peer-export/: unet/unet.onnx, vae_decoder/vae_decoder.onnx,
                    optionally vae_encoder/vae_encoder.onnx), alternating Easel and export runs, and print
                    the ratios (Easel / export)
  --compare-sizes L UNet latent sizes of --compare-export (default 64,32,8 = 512², 256², 64² images)
  --pipeline        also time txt2img end to end (seconds per image, sampler overhead per
                    step outside the UNet, preview cost) with the tokenizer of --tokenizer
  --steps N         steps of the end-to-end run (default 20)
  --size N          image size of the end-to-end run (default 512)
  --tokenizer DIR   CLIP tokenizer for the end-to-end run (default ../shared/fixtures/sd1-tiny/tokenizer,
                    byte-identical to openai/clip-vit-large-patch14's)
  --help            show this text`;


/** Median wall time of `n` runs of `fn`, in ms. */
async function medianOf(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

async function main(): Promise<number> {
  const values = parseFlags(
    {
      model: { type: 'string' },
      family: { type: 'string', default: 'sd1' },
      latent: { type: 'string', default: '64' },
      batch: { type: 'string', default: '2' },
      runs: { type: 'string', default: '3' },
      threads: { type: 'string' },
      'skip-vae': { type: 'boolean', default: false },
      'skip-encode': { type: 'boolean', default: false },
      'tiled-size': { type: 'string', default: '2048' },
      'skip-tiled': { type: 'boolean', default: false },
      'skip-unet': { type: 'boolean', default: false },
      'vae-runs': { type: 'string', default: '2' },
      'compare-export': { type: 'string' },
      'compare-sizes': { type: 'string', default: '64,32,8' },
      pipeline: { type: 'boolean', default: false },
      steps: { type: 'string', default: '20' },
      size: { type: 'string', default: '512' },
      tokenizer: { type: 'string' },
    },
    HELP,
  );
  if (!values) return 0;
  const latent = Number(values.latent);
  const batch = Number(values.batch);
  const runs = Number(values.runs);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (![latent, batch, runs].every((v) => Number.isInteger(v) && v > 0) || (threads !== undefined && !(threads > 0))) {
    console.error(`--latent, --batch, --runs and --threads must be positive integers\n\n${HELP}`);
    return 2;
  }
  if (values.family !== 'sd1' && values.family !== 'sdxl') {
    console.error(`--family must be sd1 or sdxl\n\n${HELP}`);
    return 2;
  }
  const tiledSize = Number(values['tiled-size']);
  const vaeRuns = Number(values['vae-runs']);
  const compareSizes = values['compare-sizes'].split(',').map(Number);
  if (!Number.isInteger(tiledSize) || tiledSize % 8 !== 0 || tiledSize < 8 || !compareSizes.every((v) => Number.isInteger(v) && v > 0) || !(Number.isInteger(vaeRuns) && vaeRuns > 0)) {
    console.error(`--tiled-size must be a positive multiple of 8 and --compare-sizes positive integers\n\n${HELP}`);
    return 2;
  }
  const modelPath = values.model ?? defaultModel(values.family === 'sdxl' ? 'sdxl' : 'sd15');
  const exportDir = values['compare-export'];
  let compareTable: string[] = [];
  let processPeakBeforeTiled = 0;
  const rows: Array<[string, string]> = [];
  const row = (k: string, v: string) => {
    rows.push([k, v]);
    console.error(`${k}: ${v}`);
  };

  const loadStart = loadavg()[0];
  let t = performance.now();
  const ckpt = await openCheckpoint(modelPath);
  row('checkpoint open (header, config)', fmtMs(performance.now() - t));
  const runtime = await createEngineRuntime({ device: 'cpu', ...(threads ? { intraOpThreads: threads } : {}) });
  const model = await loadDiffusionModel(ckpt, { runtime, maxSessionsPerPart: 1 });
  const cfg = ckpt.config;
  try {
    t = performance.now();
    await model.textEncoder.prepare(1);
    row('text encoder: weights + session', fmtMs(performance.now() - t));
    const ids = new Int32Array(77).fill(clipLConfig(cfg).eos_token_id);
    ids[0] = clipLConfig(cfg).bos_token_id;
    t = performance.now();
    let cond = await model.textEncoder.encode(ids, 1);
    row('text encoder: encode 1×77', fmtMs(performance.now() - t));
    let y: Float32Array | undefined;
    if (model.openClip && cfg.unet.adm_in_channels !== undefined) {
      // SDXL: the OpenCLIP tower too; context = [CLIP-L | OpenCLIP], vector = pooled + size embeddings
      t = performance.now();
      await model.openClip.prepare(1);
      row('OpenCLIP text encoder: weights + session', fmtMs(performance.now() - t));
      t = performance.now();
      const g = await model.openClip.encode(ids, 1);
      row('OpenCLIP text encoder: encode 1×77', fmtMs(performance.now() - t));
      const cl = cond.length / 77, cg = g.penultimate.length / 77;
      const both = new Float32Array(77 * (cl + cg));
      for (let k = 0; k < 77; k++) {
        both.set(cond.subarray(k * cl, (k + 1) * cl), k * (cl + cg));
        both.set(g.penultimate.subarray(k * cg, (k + 1) * cg), k * (cl + cg) + cl);
      }
      cond = both;
      const adm = cfg.unet.adm_in_channels;
      y = new Float32Array(batch * adm);
      for (let b = 0; b < batch; b++) y.set(randomValues(adm, 3), b * adm);
      // a full-size SDXL UNet is 10.3 GB in fp32: hold the text encoders no longer than needed
      await model.openClip.release();
      await model.textEncoder.release();
    }

    if (exportDir !== undefined) {
      await model.textEncoder.release();
      const compared = await compareWithExport({
        runtime, model, cond, dir: exportDir, unetSizes: compareSizes, vaeLatent: latent, runs, log: (l) => console.error(l),
        parts: { unet: !values['skip-unet'], decode: !values['skip-vae'], encode: !values['skip-vae'] && !values['skip-encode'] },
      });
      compareTable = formatCompare(compared);
      // the labels the acceptance script reads, from Easel's side of the comparison
      for (const r of compared) {
        if (r.what === `UNet: per evaluation (batch 2, ${latent}×${latent})`) row(`UNet: per evaluation (median of ${runs}, batch 2, ${latent}×${latent})`, fmtMs(r.easel));
        else if (r.what.startsWith('VAE ')) row(r.what, fmtMs(r.easel));
      }
      return finishTable();
    }
    const dims = { batch, h: latent, w: latent, tokens: 77 };
    if (!values['skip-unet']) {
      t = performance.now();
      await model.unet.prepare(dims);
      row(`UNet: weights + session (batch ${batch}, ${latent}×${latent})`, fmtMs(performance.now() - t));
      const u = model.loadTimes().unet;
      row('  of which graph build / weights fill / ORT session', `${fmtMs(u.graph)} / ${fmtMs(u.weights)} / ${fmtMs(u.session)}`);
      const x = randomValues(batch * cfg.unet.in_channels * latent * latent, 1);
      const ts = new Float32Array(batch).fill(500);
      const context = new Float32Array(batch * cond.length);
      for (let b = 0; b < batch; b++) context.set(cond, b * cond.length);
      t = performance.now();
      await model.unet.eps(x, ts, context, dims, y);
      row('UNet: first evaluation', fmtMs(performance.now() - t));
      if (model.unet.contextRuns > 0) {
        // the cross-attention K/V of this prompt, made once in that first evaluation (UNetRunnerOptions.contextKV)
        const c = model.loadTimes()['unet-context'];
        row('  of which context K/V graph: graph / weights / session (then run once per prompt)', `${fmtMs(c.graph)} / ${fmtMs(c.weights)} / ${fmtMs(c.session)}`);
      }
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        t = performance.now();
        await model.unet.eps(x, ts, context, dims, y);
        times.push(performance.now() - t);
      }
      row(`UNet: per evaluation (median of ${runs}, batch ${batch}, ${latent}×${latent})`, fmtMs(median(times)));
      await model.unet.release(); // keep the peak RSS to one part at a time
    }
    await model.textEncoder.release();

    if (!values['skip-vae']) {
      const vd = { batch: 1, h: latent, w: latent };
      const px = latent * 8;
      t = performance.now();
      await model.vae.prepareDecoder(vd);
      row('VAE decoder: weights + session', fmtMs(performance.now() - t));
      const z = randomValues(cfg.vae.embed_dim * latent * latent, 2);
      // Like the UNet row: a warm-up run (ORT plans memory and faults pages in on the first run), then
      // the median of --vae-runs.
      t = performance.now();
      const image = await model.vae.decode(z, vd);
      row('VAE decode: first run', fmtMs(performance.now() - t));
      row(`VAE decode ${px}×${px}`, fmtMs(await medianOf(vaeRuns, () => model.vae.decode(z, vd))));
      if (!values['skip-encode']) {
        t = performance.now();
        await model.vae.prepareEncoder(vd);
        row('VAE encoder: weights + session', fmtMs(performance.now() - t));
        const img = image.map((v) => Math.max(-1, Math.min(1, v)));
        t = performance.now();
        await model.vae.encodeMoments(img, vd);
        row('VAE encode: first run', fmtMs(performance.now() - t));
        row(`VAE encode ${px}×${px}`, fmtMs(await medianOf(vaeRuns, () => model.vae.encodeMoments(img, vd))));
      }
      await model.vae.release();
      if (!values['skip-tiled']) {
        // What hires fix and upscale feed the VAE: decoded and encoded in tiles above the threshold.
        const tl = tiledSize / 8;
        const td = { batch: 1, h: tl, w: tl };
        const tiling = model.vae.tiling;
        const how = `tiles of ${tiling.tile * 8}² overlapping ${tiling.overlap * 8} px`;
        processPeakBeforeTiled = process.resourceUsage().maxRSS;
        const resetOk = resetPeakRss();
        t = performance.now();
        const big = await model.vae.decode(randomValues(cfg.vae.embed_dim * tl * tl, 4), td);
        row(`VAE decode ${tiledSize}×${tiledSize} (${how})`, fmtMs(performance.now() - t));
        if (!values['skip-encode']) {
          const bigImg = big.map((v) => Math.max(-1, Math.min(1, v)));
          t = performance.now();
          await model.vae.encodeMoments(bigImg, td);
          row(`VAE encode ${tiledSize}×${tiledSize} (tiled)`, fmtMs(performance.now() - t));
        }
        const peak = resetOk ? peakRssSinceReset() : undefined;
        row(`peak RSS of the ${tiledSize}² tiled VAE decode + encode`, peak === undefined ? 'n/a (needs Linux /proc)' : `${(peak / 2 ** 30).toFixed(2)} GiB`);
      }
    }
  } finally {
    await model.dispose();
    await ckpt.close();
  }
  if (values.pipeline) {
    const steps = Number(values.steps);
    const size = Number(values.size);
    if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(size) || size % 8 !== 0) {
      console.error(`--steps must be a positive integer and --size a multiple of 8\n\n${HELP}`);
      return 2;
    }
    for (const r of await benchPipeline({ model: modelPath, tokenizerDir: values.tokenizer ?? join(SD1_TINY_DIR, 'tokenizer'), size, steps, sampler: 'euler_a', threads })) {
      row(r.what, r.value);
    }
  }
  for (const [k, v] of await benchEngineLoad(modelPath, { latent, batch, threads })) row(k, v);
  return finishTable();

  /** The closing rows and the table (also after --compare-export). */
  function finishTable(): number {
    // Resetting the peak for the tiled rows also resets the kernel's maxRSS: keep the earlier peak.
    const maxRssKb = Math.max(process.resourceUsage().maxRSS, processPeakBeforeTiled);
    row('peak RSS (process maxRSS)', `${(maxRssKb / 1024 / 1024).toFixed(2)} GiB`);
    // Timings mean little when other work shares the cores: say how busy the machine was.
    row('load average at start / end (1 min)', `${loadStart.toFixed(1)} / ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);

    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nEasel engine benchmark — ${modelPath}`);
    console.log(`CPU execution provider, fp32, onnxruntime-node, ${threads ?? 'default'} threads\n`);
    console.log(`| ${'measure'.padEnd(width)} | value |`);
    console.log(`| ${'-'.repeat(width)} | ----- |`);
    for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
    if (compareTable.length) {
      console.log(`\nEasel against the torch.onnx.export graphs in ${exportDir} (same runtime and session options, alternating, median of ${runs})\n`);
      for (const line of compareTable) console.log(line);
    }
    return 0;
  }
}

reexecWithHugePages();
runMain(main);

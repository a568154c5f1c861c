// Live-preview costs: the cheap latent→RGB projection, the TAESD decoder (real topology, 64
// channels, random weights: the cost does not depend on the values) at SD1.5 512² and SDXL 1024²,
// JPEG encoding included, and each as a share of one UNet step. The UNet figure is the issue's
// measured 5.77 s per CFG step at 512² (`--unet-step-s` to give your own, e.g. from
// `npm run bench:engine`), or, with `--unet`, one measured here in the same window: the full-size
// random SD1.5 of the engine benchmark (scripts/bench-model.ts), one CFG step (batch 2, 64×64)
// alternated with TAESD decodes. Over 3 GiB: run that one under the shared bench lock. Measures;
// asserts nothing.
//   npm run bench:preview [-- --reps 5 --unet-step-s 5.77 --preview-every 2 --threads N]
//   flock /work/wt/bigbench.lock npm run bench:preview -- --unet --skip-xl
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { previewJpeg } from '../native/pipelines/preview.js';
import { encodeJpeg } from '../native/pipelines/resize.js';
import { writeRandomTaesd } from '../native/taesd/random-taesd.js';
import { loadTaesdDecoder } from '../native/taesd/taesd-decoder.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'unet-step-s': { type: 'string', default: '5.77' },
    'preview-every': { type: 'string', default: '2' },
    threads: { type: 'string' },
    'skip-xl': { type: 'boolean', default: false },
    unet: { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
let unetStepS = Number(values['unet-step-s']);
let unetSource = 'the issue\'s figure';
const every = Number(values['preview-every']);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>, n: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const dir = mkdtempSync(join(tmpdir(), 'easel-bench-preview-'));
const rows: [string, string][] = [];
try {
  const path = join(dir, 'taesd.safetensors');
  await writeRandomTaesd(path, 'diffusers', { channels: 64 });
  const decoder = await loadTaesdDecoder(path, values.threads ? { intraOpThreads: Number(values.threads) } : {});
  if (values.unet) {
    const r = await unetAlternating(decoder);
    unetStepS = r.unetMs / 1000;
    unetSource = `measured here, alternating with TAESD; load average ${r.load}`;
    rows.push(['UNet, one CFG step at 512² (batch 2, 64×64), same window', `${(r.unetMs / 1000).toFixed(2)} s (median of ${r.n})`]);
    rows.push(['TAESD decode 512×512, same window', `${r.taesdMs.toFixed(0)} ms (median of ${r.n}); ${((100 * r.taesdMs) / r.unetMs).toFixed(1)} % of the step`]);
  }
  const share = (ms: number) => `${((100 * ms) / (unetStepS * 1000)).toFixed(1)} % of a step; ${((100 * ms) / (every * unetStepS * 1000)).toFixed(1)} % at preview_every ${every}`;
  const sizes = values['skip-xl'] ? [64] : [64, 128];
  for (const lat of sizes) {
    const latent = new Float32Array(4 * lat * lat).map((_, i) => Math.sin(i * 0.37) * 2);
    const cheapMs = await time(() => previewJpeg(latent, { batch: 1, h: lat, w: lat }), 20);
    rows.push([`cheap approx preview (latent→RGB + JPEG), ${lat}² latent`, `${cheapMs.toFixed(2)} ms (${share(cheapMs)})`]);
    const t0 = performance.now();
    await decoder.decode(latent, lat, lat);
    const firstMs = performance.now() - t0;
    const decMs = await time(() => decoder.decode(latent, lat, lat), reps);
    const rgb = await decoder.decodeToRaster(latent, lat, lat);
    const jpegMs = await time(() => encodeJpeg(rgb, 80), reps);
    rows.push([`TAESD decode ${lat * 8}×${lat * 8} (first call incl. session)`, `${firstMs.toFixed(0)} ms`]);
    rows.push([`TAESD decode ${lat * 8}×${lat * 8}`, `${decMs.toFixed(0)} ms (median of ${reps})`]);
    rows.push([`TAESD preview ${lat * 8}×${lat * 8} (decode + JPEG)`, `${(decMs + jpegMs).toFixed(0)} ms (${share(decMs + jpegMs)})`]);
  }
  await decoder.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`| measure | value |\n| --- | --- |`);
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
console.log(`(UNet step ${unetStepS.toFixed(2)} s: SD1.5 512² CFG, batch 2, ${unetSource})`);

/** One SD1.5 CFG step and one TAESD 512² decode, alternated, in the same window. */
async function unetAlternating(decoder: Awaited<ReturnType<typeof loadTaesdDecoder>>): Promise<{ unetMs: number; taesdMs: number; n: number; load: string }> {
  const { defaultModel } = await import('./bench-model.js');
  const { openCheckpoint } = await import('../native/models/checkpoint.js');
  const { loadDiffusionModel } = await import('../native/runtime/diffusion-model.js');
  const { createEngineRuntime } = await import('../native/runtime/ort-backend.js');
  const ckpt = await openCheckpoint(defaultModel('sd15'));
  const runtime = await createEngineRuntime({ device: 'cpu', ...(values.threads ? { intraOpThreads: Number(values.threads) } : {}) });
  const model = await loadDiffusionModel(ckpt, { runtime, maxSessionsPerPart: 1 });
  const dims = { batch: 2, h: 64, w: 64, tokens: 77 };
  const x = new Float32Array(2 * 4 * 64 * 64).map((_, i) => Math.sin(i));
  const ts = new Float32Array(2).fill(500);
  const context = new Float32Array(2 * 77 * ckpt.config.unet.context_dim).map((_, i) => Math.cos(i) * 0.5);
  const z = x.subarray(0, 4 * 64 * 64);
  const load: number[] = [];
  try {
    await model.unet.eps(x, ts, context, dims); // session + warm-up
    await decoder.decode(z, 64, 64);
    const u: number[] = [], d: number[] = [];
    for (let i = 0; i < reps; i++) {
      load.push((await import('node:os')).loadavg()[0]!);
      let t0 = performance.now();
      await model.unet.eps(x, ts, context, dims);
      u.push(performance.now() - t0);
      t0 = performance.now();
      await decoder.decode(z, 64, 64);
      d.push(performance.now() - t0);
    }
    return { unetMs: median(u), taesdMs: median(d), n: reps, load: `${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}` };
  } finally {
    await model.dispose();
    await ckpt.close();
  }
}

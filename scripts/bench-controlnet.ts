// What one ControlNet unit costs on a full-size SD1.5 model: the time of one CFG step (batch 2 =
// cond + uncond, 512² → 64² latent) of the plain UNet, of the ControlNet, and of the UNet variant
// that takes the residuals; and the resident memory each new session adds (the ControlNet's, and
// the residual UNet variant's, which holds its own copy of the UNet weights).
//
// Usage: npx tsx scripts/bench-controlnet.ts --model SD15.safetensors --controlnet CN.safetensors [--runs N] [--size 512]
// (random full-size files: `npm run make:sd15` and `npx tsx scripts/make-random-controlnet.ts`)
import { pathToFileURL } from 'node:url';
import { ControlNetModel } from '../native/controlnet/controlnet-model.js';
import { openControlNet } from '../native/controlnet/controlnet-file.js';
import { openCheckpoint } from '../native/models/checkpoint.js';
import { loadDiffusionModel } from '../native/runtime/diffusion-model.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const HELP = `bench-controlnet: per-step cost and memory of one ControlNet unit on a full-size model

  --model FILE       SD1.5 checkpoint (random full-size is fine)
  --controlnet FILE  ControlNet (random full-size is fine)
  --runs N           timed runs per measurement (default 2, after one warm-up)
  --size N           image size (default 512)
  --help             show this text`;

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

export async function main(): Promise<number> {
  const v = parseFlags({ model: { type: 'string' }, controlnet: { type: 'string' }, runs: { type: 'string', default: '2' }, size: { type: 'string', default: '512' } }, HELP);
  if (!v) return 0;
  if (!v.model || !v.controlnet) {
    console.error(`expected --model and --controlnet\n\n${HELP}`);
    return 2;
  }
  const runs = Number(v.runs), size = Number(v.size), h = size / 8, w = size / 8;
  const runtime = await createEngineRuntime({ device: 'cpu' });
  const ckpt = await openCheckpoint(v.model);
  const model = await loadDiffusionModel(ckpt, { runtime });
  const u = ckpt.config.unet;
  const dims = { batch: 2, h, w, tokens: 77 };
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * s);
  const x = rand(2 * 4 * h * w), t = new Float32Array([500, 500]), ctx = rand(2 * 77 * u.context_dim, 0.5), hint = rand(3 * size * size, 0.5).map(Math.abs);
  const time = async (label: string, f: () => Promise<unknown>) => {
    const before = rssMiB();
    let t0 = performance.now();
    await f();
    const first = performance.now() - t0;
    const grown = rssMiB() - before;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      t0 = performance.now();
      await f();
      times.push(performance.now() - t0);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(`${label}: first call ${(first / 1000).toFixed(1)} s (RSS +${grown.toFixed(0)} MiB), then ${(mean / 1000).toFixed(2)} s per call (${times.map((m) => (m / 1000).toFixed(2)).join(', ')})`);
    return mean;
  };
  console.log(`SD1.5 ${size}², batch 2 (cond+uncond), CPU fp32, RSS at start ${rssMiB().toFixed(0)} MiB`);
  const plain = await time('UNet (plain graph)', () => model.unet.eps(x, t, ctx, dims));
  const cn = new ControlNetModel(await openControlNet(v.controlnet), runtime, runtime.precision);
  let residuals: Float32Array[] = [];
  const control = await time('ControlNet', async () => (residuals = await cn.residuals(x, t, ctx, hint, dims)));
  const withRes = await time('UNet with residual inputs', () => model.unet.eps(x, t, ctx, dims, undefined, residuals));
  console.log(`one unit per CFG step: ControlNet ${(control / plain * 100).toFixed(0)} % of a plain UNet step; step with ControlNet ${((control + withRes) / plain).toFixed(2)}× the plain step`);
  console.log(`RSS at end ${rssMiB().toFixed(0)} MiB`);
  await cn.dispose();
  await model.dispose();
  await ckpt.close();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  reexecWithHugePages();
  runMain(main);
}

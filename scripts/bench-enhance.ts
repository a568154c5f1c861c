// Benchmark of prompt expansion at full size: greedy decoding with the KV cache on a GPT-2 small
// (124 M parameters, random weights, fp32) at N CPU threads. Decoding one token reads every weight
// once (batch 1: matrix-vector products), so tokens/s is also reported as weight bytes per second
// against this machine's memory bandwidth, measured here the same way: ONNX Runtime streaming a
// buffer larger than the caches (ReduceMean, same threads) and a single-thread memcpy. Also the
// load time, the first-token latency (prompt pass + first token) and the peak RSS. Asserts nothing.
//
// Usage: npm run bench:enhance -- [--threads 2] [--new-tokens 64] [--model DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../native/graph/builder.js';
import { generateIds } from '../native/lm/generate.js';
import { Gpt2Model } from '../native/lm/gpt2-model.js';
import { loadGpt2Tokenizer } from '../native/lm/gpt2-tokenizer.js';
import { writeRandomGpt2 } from '../native/lm/testing/random-gpt2.js';
import { createEngineRuntime, type EngineRuntime } from '../native/runtime/ort-backend.js';
import { fixturePath } from '../native/testing/fixtures.js';
import { parseFlags, runMain } from './cli.js';

const HELP = `bench-enhance: greedy tokens/s of a full-size GPT-2 small with the KV cache, against memory bandwidth

  --threads N       ONNX Runtime intra-op threads (default 2)
  --new-tokens N    tokens to generate per run (default 64)
  --model DIR       a GPT-2 folder to time instead of random GPT-2 small weights
  --help            show this text`;

const PROMPT = 'a photograph of an astronaut riding a horse';
const BANDWIDTH_BYTES = 512 * 2 ** 20;
const GB = 1e9;

/** Read bandwidth as ONNX Runtime achieves it: ReduceMean over a buffer far larger than the caches. */
async function ortReadBandwidth(runtime: EngineRuntime): Promise<number> {
  const n = BANDWIDTH_BYTES / 4;
  const g = new GraphBuilder({ name: 'bandwidth' });
  const x = g.input('x', 'float32', [n]);
  g.output(g.op('ReduceMean', [x, g.ints([0])], { keepdims: 0 }), 'y');
  const session = await runtime.createSession(g.build(), []);
  const data = new Float32Array(n).fill(1);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await session.run({ x: { dtype: 'float32', data, dims: [n] } });
    best = Math.min(best, performance.now() - t);
  }
  await session.dispose();
  return BANDWIDTH_BYTES / (best / 1000);
}

/** memcpy bandwidth of one thread (bytes read + written per second). */
function memcpyBandwidth(): number {
  const src = new Float64Array(BANDWIDTH_BYTES / 8).fill(1);
  const dst = new Float64Array(src.length);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * BANDWIDTH_BYTES) / (best / 1000);
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

async function main(): Promise<number> {
  const v = parseFlags({ threads: { type: 'string', default: '2' }, 'new-tokens': { type: 'string', default: '64' }, model: { type: 'string' } }, HELP);
  if (!v) return 0;
  const threads = Number(v.threads);
  const newTokens = Number(v['new-tokens']);
  const runtime = await createEngineRuntime({ device: 'cpu', intraOpThreads: threads });

  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${threads} thread(s)`);
  const ortBw = await ortReadBandwidth(runtime);
  const cpyBw = memcpyBandwidth();

  const tmp = v.model ? undefined : mkdtempSync(join(tmpdir(), 'easel-bench-gpt2-'));
  try {
    const dir = v.model ?? tmp!;
    let t = performance.now();
    if (tmp) await writeRandomGpt2(tmp);
    const writeMs = performance.now() - t;
    const tokenizer = await loadGpt2Tokenizer(v.model ?? fixturePath('gpt2-tiny', 'tokenizer'));
    t = performance.now();
    const model = await Gpt2Model.load(dir, { runtime });
    const loadMs = performance.now() - t;
    const c = model.config;
    // What one decoding step reads: every weight but the position table (one row of it).
    const stepBytes = model.weightBytes - c.nPositions * c.nEmbd * 4;
    const ids = tokenizer.encode(PROMPT);

    const runs: Array<{ firstMs: number; tokS: number; stepMs: number }> = [];
    for (let r = 0; r < 3; r++) {
      const stamps: number[] = [];
      const start = performance.now();
      await generateIds(model, ids, { doSample: false, maxNewTokens: newTokens, eosTokenId: -1 }, { onToken: () => stamps.push(performance.now()) });
      const firstMs = stamps[0]! - start;
      const stepMs = (stamps[stamps.length - 1]! - stamps[0]!) / (stamps.length - 1);
      runs.push({ firstMs, stepMs, tokS: 1000 / stepMs });
    }
    await model.dispose();
    const best = runs.reduce((a, b) => (b.tokS > a.tokS ? b : a));
    const weightBw = best.tokS * stepBytes;
    const rssMiB = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;

    console.log('');
    console.log(`| GPT-2 (${c.nLayer} layers, ${c.nEmbd} wide, ${(model.weightBytes / 4 / 1e6).toFixed(1)} M parameters, fp32) | value |`);
    console.log('| --- | ---: |');
    if (tmp) console.log(`| write random weights | ${fmt(writeMs / 1000)} s |`);
    console.log(`| load (graph + weights + session) | ${fmt(loadMs / 1000)} s |`);
    console.log(`| prompt | ${ids.length} tokens |`);
    console.log(`| first-token latency (prompt pass + first token), runs | ${runs.map((r) => `${fmt(r.firstMs, 0)} ms`).join(', ')} |`);
    console.log(`| decode step (best of 3 runs × ${newTokens} tokens) | ${fmt(best.stepMs)} ms |`);
    console.log(`| greedy tokens/s | **${fmt(best.tokS, 2)}** (runs: ${runs.map((r) => fmt(r.tokS, 2)).join(', ')}) |`);
    console.log(`| weight bytes per token | ${fmt(stepBytes / 2 ** 20)} MiB |`);
    console.log(`| weight bytes/s | ${fmt(weightBw / GB, 2)} GB/s |`);
    console.log(`| measured read bandwidth (ORT ReduceMean, ${threads} thread(s), 512 MiB) | ${fmt(ortBw / GB, 2)} GB/s |`);
    console.log(`| measured memcpy bandwidth (1 thread, read + write) | ${fmt(cpyBw / GB, 2)} GB/s |`);
    console.log(`| weight bytes/s ÷ read bandwidth | **${fmt((100 * weightBw) / ortBw, 0)} %** |`);
    console.log(`| peak RSS | ${fmt(rssMiB, 0)} MiB |`);
    return 0;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);

// Benchmark of LoRA merging at full size: a random kohya LoRA of the given rank over SD1.5's
// attention layers and text encoder (with --convs also the ResBlock and sampler convs, as LoCon
// files do) is merged into a full-size checkpoint the way the engine does it before making its
// sessions: cache miss (merge products on ONNX Runtime, write the merged tensors), hit in the
// same process (the sessions' overlay is reused) and hit after a restart (the merged file is
// found on disk). Prints a table; asserts nothing.
//
// Usage: npm run bench:lora -- [--model FILE] [--rank N] [--convs] [--js]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loraAddnetHash, readLoraFile } from '../native/lora/lora-file.js';
import { partsOf, type AppliedLora, type LoraPart } from '../native/lora/lora-merge.js';
import { loraTargetKey } from '../native/lora/kohya-keys.js';
import { MergedLoraCache } from '../native/lora/merged-cache.js';
import { ortMatmul } from '../native/lora/ort-matmul.js';
import { writeRandomLora, type RandomLoraModule } from '../native/lora/test/make-lora.js';
import { openCheckpoint, type Checkpoint } from '../native/models/checkpoint.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { defaultModel } from './bench-model.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const HELP = `bench-lora: time LoRA merging into a full-size SD1 checkpoint

  --model FILE   checkpoint (default: as bench:engine, a random full-size SD1.5)
  --rank N       LoRA rank (default 32; 3×3 convs use half of it, like LoCon conv_dim)
  --convs        also target ResBlock and sampler convs (a LoCon), not only attention + text encoder
  --js           also time the merge with plain JS products (no ONNX Runtime), for comparison
  --help         show this text`;

const ATTENTION_PARTS = ['proj_in', 'proj_out', 'ff_net_0_proj', 'ff_net_2'].concat(
  ['attn1', 'attn2'].flatMap((a) => ['to_q', 'to_k', 'to_v', 'to_out_0'].map((p) => `transformer_blocks_0_${a}_${p}`)),
);
const RESNET_PARTS = ['conv1', 'conv2', 'time_emb_proj', 'conv_shortcut'];

/** kohya module names of SD1.x (diffusers paths), the ones a LoRA trainer targets. */
function sd1ModuleNames(convs: boolean): string[] {
  const attn: string[] = [];
  for (let b = 0; b < 3; b++) for (let j = 0; j < 2; j++) attn.push(`down_blocks_${b}_attentions_${j}`);
  attn.push('mid_block_attentions_0');
  for (let b = 1; b < 4; b++) for (let j = 0; j < 3; j++) attn.push(`up_blocks_${b}_attentions_${j}`);
  const names = attn.flatMap((a) => ATTENTION_PARTS.map((p) => `lora_unet_${a}_${p}`));
  for (let i = 0; i < 12; i++) {
    for (const p of ['self_attn_q_proj', 'self_attn_k_proj', 'self_attn_v_proj', 'self_attn_out_proj', 'mlp_fc1', 'mlp_fc2']) names.push(`lora_te_text_model_encoder_layers_${i}_${p}`);
  }
  if (convs) {
    const res: string[] = [];
    for (let b = 0; b < 4; b++) for (let j = 0; j < 2; j++) res.push(`down_blocks_${b}_resnets_${j}`);
    for (let j = 0; j < 2; j++) res.push(`mid_block_resnets_${j}`);
    for (let b = 0; b < 4; b++) for (let j = 0; j < 3; j++) res.push(`up_blocks_${b}_resnets_${j}`);
    names.push(...res.flatMap((r) => RESNET_PARTS.map((p) => `lora_unet_${r}_${p}`)));
    for (let b = 0; b < 3; b++) names.push(`lora_unet_down_blocks_${b}_downsamplers_0_conv`, `lora_unet_up_blocks_${b}_upsamplers_0_conv`);
  }
  return names;
}

/** The modules that exist in `ckpt`, with their target shapes. */
function modulesFor(ckpt: Checkpoint, convs: boolean): RandomLoraModule[] {
  const out: RandomLoraModule[] = [];
  for (const name of sd1ModuleNames(convs)) {
    const key = loraTargetKey(name);
    const shape = key ? ckpt.shape(key) : undefined;
    if (shape) out.push({ name, shape });
  }
  return out;
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const values = parseFlags(
    {
      model: { type: 'string' },
      rank: { type: 'string', default: '32' },
      convs: { type: 'boolean', default: false },
      js: { type: 'boolean', default: false },
    },
    HELP,
  );
  if (!values) return 0;
  const rank = Number(values.rank);
  if (!Number.isInteger(rank) || rank < 1 || rank > 1024) {
    console.error(`--rank must be an integer between 1 and 1024, got ${values.rank}`);
    return 2;
  }
  const modelPath = values.model ?? defaultModel();
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-lora-'));
  const rows: [string, string][] = [];
  const ckpt = await openCheckpoint(modelPath);
  const runtime = await createEngineRuntime({ device: 'cpu' });
  try {
    const modules = modulesFor(ckpt, values.convs);
    const convModules = modules.filter((m) => m.shape.length === 4 && m.shape[2]! > 1);
    const lora = join(dir, 'bench.safetensors');
    let t = performance.now();
    // 3×3 conv modules get half the rank, as LoCon's conv_dim usually is.
    await writeRandomLora(lora, modules.filter((m) => !convModules.includes(m)), { seed: 1, rank, alpha: rank / 2 });
    if (convModules.length > 0) {
      const convFile = join(dir, 'bench-convs.safetensors');
      await writeRandomLora(convFile, convModules, { seed: 2, rank: Math.max(1, rank >> 1), alpha: Math.max(1, rank >> 2) });
      rows.push(['LoCon conv modules (second file)', String(convModules.length)]);
    }
    rows.push(['LoRA modules / file size', `${modules.length - convModules.length} / ${(statSync(lora).size / 1024 ** 2).toFixed(1)} MiB`]);
    rows.push(['write random LoRA', sec(performance.now() - t)]);

    const files = convModules.length > 0 ? [lora, join(dir, 'bench-convs.safetensors')] : [lora];
    t = performance.now();
    const hashes = await Promise.all(files.map((f) => loraAddnetHash(f)));
    rows.push(['addnet hash (Lora hashes)', sec(performance.now() - t)]);
    t = performance.now();
    const networks = await Promise.all(files.map((f) => readLoraFile(f, (k) => ckpt.shape(k))));
    rows.push(['parse LoRA file(s)', sec(performance.now() - t)]);
    const set: AppliedLora[] = networks.map((network, i) => ({ network, hash: hashes[i]!, teMultiplier: 0.8, unetMultiplier: 0.8, parts: partsOf(network) }));

    const cacheDir = join(dir, 'cache');
    const baseId = `${modelPath}:bench`;
    const cache = new MergedLoraCache({ dir: cacheDir, maxBytes: 64 * 1024 ** 3, matmul: () => ortMatmul(runtime) });
    const parts: LoraPart[] = ['textEncoder', 'unet'];
    for (const part of parts) {
      t = performance.now();
      const v = await cache.variant(ckpt, baseId, part, set);
      const ms = performance.now() - t;
      const size = v ? statSync(join(cacheDir, `${v.id}.safetensors`)).size : 0;
      rows.push([`merge ${part} (miss, ONNX Runtime products)`, `${sec(ms)}, ${gib(size)} written`]);
    }
    for (const part of parts) {
      t = performance.now();
      await cache.variant(ckpt, baseId, part, set);
      rows.push([`${part} again (hit, same process)`, `${(performance.now() - t).toFixed(2)} ms`]);
    }
    const restarted = new MergedLoraCache({ dir: cacheDir, maxBytes: 64 * 1024 ** 3 });
    for (const part of parts) {
      t = performance.now();
      await restarted.variant(ckpt, baseId, part, set);
      rows.push([`${part} after a restart (hit, merged file on disk)`, `${(performance.now() - t).toFixed(2)} ms`]);
    }
    rows.push(['merges computed', `${cache.merges + restarted.merges} (2 expected: one per part)`]);
    if (values.js) {
      const jsCache = new MergedLoraCache({ dir: join(dir, 'cache-js'), maxBytes: 64 * 1024 ** 3 });
      for (const part of parts) {
        t = performance.now();
        await jsCache.variant(ckpt, `${baseId}:js`, part, set);
        rows.push([`merge ${part} (miss, plain JS products)`, sec(performance.now() - t)]);
      }
    }
  } finally {
    await ckpt.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`LoRA merge, rank ${rank}${values.convs ? ' + LoCon convs' : ''}, ${modelPath}`);
  console.log(`CPU: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(2)}, peak RSS ${gib(process.resourceUsage().maxRSS * 1024)}`);
  console.log(`| ${'measure'.padEnd(w)} | value |\n| ${'-'.repeat(w)} | --- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  return 0;
}

reexecWithHugePages();
runMain(main);

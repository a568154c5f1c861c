// --compare-export mechanics on the sd1-tiny model: Easel's own decoder graph written to disk plays
// the exported file (same I/O names as torch.onnx.export's), so both sides must agree and give a ratio.
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../native/models/checkpoint.js';
import { openTinyCheckpoint } from '../native/models/graph-test-utils.js';
import { buildVaeDecoderGraph } from '../native/models/vae-graph.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import type { EngineRuntime } from '../native/runtime/ort-backend.js';
import { loadDiffusionModel } from '../native/runtime/diffusion-model.js';
import type { DiffusionModel } from '../native/runtime/diffusion-model.js';
import { stageWeightsOnDisk } from '../native/runtime/weights.js';
import { compareWithExport, formatCompare } from './bench-compare-export.js';

let ckpt: Checkpoint;
let runtime: EngineRuntime;
let model: DiffusionModel;
let dir: string;

beforeAll(async () => {
  ckpt = await openTinyCheckpoint();
  runtime = await createEngineRuntime({ device: 'cpu' });
  model = await loadDiffusionModel(ckpt, { runtime });
  dir = mkdtempSync(join(tmpdir(), 'easel-compare-'));
  const dec = join(dir, 'vae_decoder');
  mkdirSync(dec);
  const graph = buildVaeDecoderGraph(ckpt.config.vae, { batch: 1, height: 8, width: 8, weightShape: (k) => ckpt.shape(k) });
  renameSync(await stageWeightsOnDisk(graph, ckpt, dec), join(dec, 'vae_decoder.onnx'));
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('compareWithExport', () => {
  it('alternates Easel and the exported decoder, skips what the folder lacks, prints ratios', async () => {
    const logs: string[] = [];
    const rows = await compareWithExport({
      runtime, model, cond: new Float32Array(77 * ckpt.config.unet.context_dim), dir, unetSizes: [8], vaeLatent: 8, runs: 2, log: (l) => logs.push(l),
    });
    expect(rows.map((r) => r.what)).toEqual(['VAE decode 64×64']);
    expect(rows[0].easel).toBeGreaterThan(0);
    expect(rows[0].exported).toBeGreaterThan(0);
    expect(logs.filter((l) => l.includes('not found')).length).toBe(2); // unet and vae_encoder
    const table = formatCompare(rows);
    expect(table[2]).toMatch(/^\| VAE decode 64×64 \| [\d.]+ s \| [\d.]+ s \| \d+\.\d\d \|$/);
  });
});

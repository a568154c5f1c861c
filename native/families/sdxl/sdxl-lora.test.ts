// Networks on SDXL with a LoRA made for the sdxl-tiny shapes: kohya names of every kind A1111 maps
// (sgm and diffusers UNet blocks, lora_te1_ CLIP-L, lora_te2_ OpenCLIP with q/k/v inside
// in_proj_weight), merged through the engine's cache, must equal merging by hand (plain float32
// W + up·down·alpha/rank·multiplier on each target) and change the output; a LoRA made for SD1 is
// refused with `model_family_mismatch`, and an SDXL LoRA on the SD1 checkpoint too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLoraFile } from '../../lora/lora-file.js';
import { seededValues, writeRandomLora } from '../../lora/test/make-lora.js';
import { openCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { maxAbsDiff } from '../../models/graph-test-utils.js';
import { generate } from '../../pipelines/generate.js';
import { loadEngine, type Engine } from '../../pipelines/engine.js';
import type { GenerateRequest } from '../../pipelines/types.js';
import { loadDiffusionModel } from '../../runtime/diffusion-model.js';
import { createEngineRuntime } from '../../runtime/ort-backend.js';
import { sd1TinyPath, sdxlTinyPath } from '../../testing/fixtures.js';
import { SDXL_FAMILY } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-sdxl-lora-'));
const loraPath = join(dir, 'tiny_xl.safetensors');
const sd1LoraPath = join(dir, 'tiny_sd1.safetensors');

const MODULES = [
  // sgm block names (kohya sd-scripts' SDXL trainer)
  { name: 'lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k', target: 'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight', shape: [64, 80] },
  { name: 'lora_unet_middle_block_1_transformer_blocks_1_ff_net_0_proj', target: 'model.diffusion_model.middle_block.1.transformer_blocks.1.ff.net.0.proj.weight', shape: [1024, 128] },
  { name: 'lora_unet_output_blocks_3_0_in_layers_2', target: 'model.diffusion_model.output_blocks.3.0.in_layers.2.weight', shape: [64, 192, 3, 3] },
  // diffusers block names (convert_diffusers_name_to_compvis)
  { name: 'lora_unet_down_blocks_2_attentions_0_proj_in', target: 'model.diffusion_model.input_blocks.7.1.proj_in.weight', shape: [128, 128] },
  { name: 'lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn1_to_out_0', target: 'model.diffusion_model.output_blocks.5.1.transformer_blocks.0.attn1.to_out.0.weight', shape: [64, 64] },
  // CLIP-L and OpenCLIP
  { name: 'lora_te1_text_model_encoder_layers_0_self_attn_q_proj', target: 'conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight', shape: [32, 32] },
  { name: 'lora_te2_text_model_encoder_layers_0_self_attn_k_proj', target: 'conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight#k', shape: [48, 48] },
  { name: 'lora_te2_text_model_encoder_layers_1_self_attn_v_proj', target: 'conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight#v', shape: [48, 48] },
  { name: 'lora_te2_text_model_encoder_layers_1_mlp_fc1', target: 'conditioner.embedders.1.model.transformer.resblocks.1.mlp.c_fc.weight', shape: [192, 48] },
  { name: 'lora_te2_text_model_encoder_layers_0_self_attn_out_proj', target: 'conditioner.embedders.1.model.transformer.resblocks.0.attn.out_proj.weight', shape: [48, 48] },
];
const RANK = 2;
const ALPHA = 1;

/** up·down·(alpha/rank)·mult, float32, for a module written by writeRandomLora (index i, seed 7). */
function handDelta(i: number, shape: number[], mult: number): Float32Array {
  const [out, inp, ...k] = shape as [number, number, ...number[]];
  const kk = k.reduce((a, b) => a * b, 1);
  const down = seededValues(7 * 1000 + 2 * i + 1, RANK * inp * kk, 0.5); // [r, in·k·k]
  const up = seededValues(7 * 1000 + 2 * i + 2, out * RANK, 0.5); // [out, r]
  const d = new Float32Array(out * inp * kk);
  const scale = Math.fround((ALPHA / RANK) * mult);
  for (let o = 0; o < out; o++) for (let r = 0; r < RANK; r++) for (let j = 0; j < inp * kk; j++) d[o * inp * kk + j] += up[o * RANK + r]! * down[r * inp * kk + j]!;
  return d.map((v) => Math.fround(v * scale));
}

let engine: Engine;
let ckpt: Checkpoint;

beforeAll(async () => {
  await writeRandomLora(loraPath, MODULES, { seed: 7, rank: RANK, alpha: ALPHA });
  await writeRandomLora(sd1LoraPath, [{ name: 'lora_te_text_model_encoder_layers_0_self_attn_q_proj', shape: [32, 32] }, { name: 'lora_unet_down_blocks_0_attentions_0_proj_in', shape: [32, 32, 1, 1] }], { seed: 3 });
  engine = await loadEngine(sdxlTinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache') });
  ckpt = await openCheckpoint(sdxlTinyPath('model.safetensors'));
});

afterAll(async () => {
  await engine?.dispose();
  await ckpt?.close();
});

describe('LoRA on SDXL', () => {
  it('maps every kohya name kind to its SDXL weight', async () => {
    const net = await readLoraFile(loraPath, (k) => ckpt.shape(k), 'sdxl');
    expect(net.skipped).toEqual([]);
    expect(new Map([...net.modules].map(([t, m]) => [m.moduleName, t]))).toEqual(new Map(MODULES.map((m) => [m.name, m.target])));
  });

  it('merged by the engine = merged by hand, and the output changes', async () => {
    const mult = 0.8;
    // by hand: a weight hook adding each delta (q/k/v into their third of in_proj_weight)
    const byHand = await loadDiffusionModel(ckpt, {
      runtime: await createEngineRuntime({ device: 'cpu' }),
      weightHook: (key, w) => {
        const out = Float32Array.from(w);
        MODULES.forEach((m, i) => {
          const [target, slice] = m.target.split('#');
          if (target !== key) return;
          const d = handDelta(i, m.shape, mult);
          const offset = slice ? ['q', 'k', 'v'].indexOf(slice) * d.length : 0;
          for (let j = 0; j < d.length; j++) out[offset + j] = Math.fround(out[offset + j]! + d[j]!);
        });
        return out;
      },
    });
    try {
      const ctx = { clipSkip: 1, width: 64, height: 64 };
      const prompt = 'a photo of a cat, (sunset:1.2)';
      const base = (await engine.conditioner.learned([prompt], 1, ctx))[0]![0]!.cond;
      await engine.networks.apply({ loras: [{ name: 'tiny_xl', path: loraPath, teWeight: mult, unetWeight: mult }] });
      const merged = (await engine.conditioner.learned([prompt], 1, ctx))[0]![0]!.cond;
      const hand = (await SDXL_FAMILY.conditioner(byHand, engine.tokenizer).learned([prompt], 1, ctx))[0]![0]!.cond;
      expect(maxAbsDiff(merged.data, hand.data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(merged.vector!, hand.vector!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(merged.data, base.data)).toBeGreaterThan(1e-3);

      const x = seededValues(11, 2 * 4 * 8 * 8);
      const t = Float32Array.of(700, 300);
      const context = new Float32Array([...merged.data, ...merged.data]);
      const y = new Float32Array([...merged.vector!, ...merged.vector!]);
      const dims = { batch: 2, h: 8, w: 8, tokens: 77 };
      const eps = await engine.model.unet.eps(x, t, context, dims, y);
      const epsHand = await byHand.unet.eps(x, t, context, dims, y);
      expect(maxAbsDiff(eps, epsHand)).toBeLessThan(1e-5);
      await engine.networks.apply({ loras: [] });
      expect(maxAbsDiff(await engine.model.unet.eps(x, t, context, dims, y), eps)).toBeGreaterThan(1e-3);
    } finally {
      await byHand.dispose();
    }
  });

  it('a generation with the LoRA tag differs from one without and writes its hash', async () => {
    const req: GenerateRequest = {
      task: 'txt2img', prompt: 'a red car', negative_prompt: '', width: 64, height: 64, steps: 3, cfg_scale: 6, sampler: 'euler',
      scheduler: 'automatic', seed: 5, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1,
    };
    const plain = await generate(engine, req);
    const tagged = await generate(engine, { ...req, prompt: 'a red car <lora:tiny_xl:0.8>' }, {}, { resolveLora: () => loraPath });
    expect(Buffer.compare(Buffer.from(plain.images[0]!.rgb.data), Buffer.from(tagged.images[0]!.rgb.data))).not.toBe(0);
    expect(tagged.params.lora_hashes.map((h) => h.name)).toEqual(['tiny_xl']);
  });

  it('refuses an SD1 LoRA on SDXL and an SDXL LoRA on SD1 with model_family_mismatch', async () => {
    await expect(engine.networks.apply({ loras: [{ name: 'tiny_sd1', path: sd1LoraPath, teWeight: 1, unetWeight: 1 }] })).rejects.toMatchObject({ code: 'model_family_mismatch' });
    const sd1 = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache1') });
    try {
      await expect(sd1.networks.apply({ loras: [{ name: 'tiny_xl', path: loraPath, teWeight: 1, unetWeight: 1 }] })).rejects.toMatchObject({ code: 'model_family_mismatch' });
    } finally {
      await sd1.dispose();
    }
  });
});


// SDXL modules against ../shared/fixtures/sdxl-tiny (README §1–§7): checkpoint keys and config, both
// text encoders, A1111's conditioning (crossattn and the ADM vector), the UNet and the VAE, each
// within the README's tolerances (1e-4 abs; sigmas 1e-6 rel).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../io/safetensors.js';
import { openCheckpoint, type Checkpoint } from '../../models/checkpoint.js';
import { isSdxlConfig, SDXL_BASE_CONFIG, type SDXLConfig } from '../../models/config.js';
import { diffKeySet, sdxlKeySpec } from '../../models/key-spec.js';
import { FIXTURE_TOLERANCE, maxAbs, maxAbsDiff } from '../../models/graph-test-utils.js';
import { loadDiffusionModel, type DiffusionModel } from '../../runtime/diffusion-model.js';
import { createEngineRuntime } from '../../runtime/ort-backend.js';
import { alphasCumprodFromConfig, modelScheduleFromAlphasCumprod } from '../../sampling/schedules.js';
import { loadClipTokenizer, type ClipTokenizer } from '../../text/clip-tokenizer.js';
import { fixturePath, sd1TinyPath, sdxlTinyPath } from '../../testing/fixtures.js';
import { SDXL_FAMILY } from './index.js';
import { sizeEmbedding } from './conditioning.js';

type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

async function readAll(name: string): Promise<Tensors> {
  const file = await SafetensorsFile.open(sdxlTinyPath(name));
  try {
    const out: Tensors = {};
    for (const key of file.keys()) out[key] = { shape: file.info(key)!.shape, data: await file.readFloat32(key) };
    return out;
  } finally {
    await file.close();
  }
}

const cases = JSON.parse(readFileSync(sdxlTinyPath('cases.json'), 'utf8')) as {
  conditioning: { cases: Record<string, { prompt?: string; prompts?: string[]; is_negative_prompt?: boolean; forced_zero?: boolean }> };
};

let ckpt: Checkpoint;
let config: SDXLConfig;
let model: DiffusionModel;
let tokenizer: ClipTokenizer;

beforeAll(async () => {
  ckpt = await openCheckpoint(sdxlTinyPath('model.safetensors'));
  if (!isSdxlConfig(ckpt.config)) throw new Error('expected an SDXL config');
  config = ckpt.config;
  model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }) });
  tokenizer = await loadClipTokenizer(sd1TinyPath('tokenizer'));
});

afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
});

describe('SDXL checkpoint (sdxl-tiny model.safetensors, F16)', () => {
  it('is detected as SDXL with the README §1 config', () => {
    expect(ckpt.family).toBe('sdxl');
    expect(config.unet).toMatchObject({ model_channels: 32, channel_mult: [1, 2, 4], attention_resolutions: [4, 2], num_head_channels: 8, transformer_depth: [1, 1, 2], transformer_depth_middle: 2, context_dim: 80, adm_in_channels: 1584, use_linear_in_transformer: true });
    expect(config.clip_l).toMatchObject({ hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, layer_idx: 2, hidden_act: 'quick_gelu' });
    expect(config.open_clip).toMatchObject({ width: 48, heads: 4, layers: 3, embed_dim: 48, mlp_ratio: 4, context_length: 77 });
    expect(config.scale_factor).toBe(0.13025);
  });

  it('has exactly the keys the SDXL key spec gives for its config', () => {
    const diff = diffKeySet(sdxlKeySpec(config), ckpt.keys(), (k) => ckpt.shape(k));
    expect(diff).toEqual({ missing: [], unexpected: [], wrongShape: [] });
  });

  it('the key spec of the full-size config is the key list of sd_xl_base (keys/sdxl_base.json)', () => {
    const raw = JSON.parse(readFileSync(fixturePath('keys', 'sdxl_base.json'), 'utf8')) as { keys: Array<[string, number[], string]> };
    const shapes = new Map(raw.keys.map(([k, s]) => [k, s]));
    const diff = diffKeySet(sdxlKeySpec(SDXL_BASE_CONFIG), shapes.keys(), (k) => shapes.get(k));
    expect(diff).toEqual({ missing: [], unexpected: [], wrongShape: [] });
  });

  it('schedule from the config equals sigmas.json (A1111 ignores denoiser.sigmas)', () => {
    const s = JSON.parse(readFileSync(sdxlTinyPath('sigmas.json'), 'utf8')) as { alphas_cumprod: number[]; model_sigmas_1000: number[] };
    const schedule = modelScheduleFromAlphasCumprod(alphasCumprodFromConfig(config.schedule));
    expect(maxAbsDiff(schedule.alphasCumprod, s.alphas_cumprod)).toBe(0);
    for (let i = 0; i < 1000; i += 37) expect(Math.abs(schedule.sigmas[i]! - s.model_sigmas_1000[i]!) / s.model_sigmas_1000[i]!).toBeLessThan(1e-6);
  });
});

describe('SDXL text encoders (text_encoder.safetensors)', () => {
  let fx: Tensors;
  beforeAll(async () => {
    fx = await readAll('text_encoder.safetensors');
  });

  it('CLIP-L hidden_states[layer_idx] (no final LayerNorm) within 1e-4', async () => {
    const ids = Int32Array.from(fx['clip_l.input_ids']!.data);
    const out = await model.textEncoder.encode(ids, 4, { clipSkip: config.clip_l.num_hidden_layers - config.clip_l.layer_idx + 1 });
    expect(maxAbsDiff(out, fx['clip_l.sdxl_layer']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  it('OpenCLIP penultimate and pooled within 1e-4', async () => {
    const ids = Int32Array.from(fx['open_clip.input_ids']!.data);
    const out = await model.openClip!.encode(ids, 4);
    expect(maxAbsDiff(out.penultimate, fx['open_clip.penultimate']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    expect(maxAbsDiff(out.pooled, fx['open_clip.pooled']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });
});

describe('SDXL conditioning as A1111 builds it (conditioning.safetensors)', () => {
  let fx: Tensors;
  beforeAll(async () => {
    fx = await readAll('conditioning.safetensors');
  });

  it('size embeddings (ConcatTimestepEmbedderND) within 1e-4', () => {
    expect(maxAbsDiff(sizeEmbedding(64, 64), fx['size_embedding.w64h64']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    expect(maxAbsDiff(sizeEmbedding(96, 64), fx['size_embedding.w96h64']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });

  for (const [name, c] of Object.entries(cases.conditioning.cases)) {
    if (name === 'schedule_batch') continue;
    it(`${name}: crossattn, vector (64×64 and 96×64)`, async () => {
      const conditioner = SDXL_FAMILY.conditioner(model, tokenizer);
      const at = async (width: number, height: number) => {
        const [[sched]] = [await conditioner.learned([c.prompt!], 1, { clipSkip: 1, width, height, isNegative: c.is_negative_prompt })];
        return sched![0]!.cond;
      };
      const cond = await at(64, 64);
      const want = fx[`${name}.crossattn`]!;
      expect(cond.tokens).toBe(want.shape[1]);
      expect(maxAbsDiff(cond.data, want.data)).toBeLessThan(FIXTURE_TOLERANCE);
      expect(maxAbsDiff(cond.vector!, fx[`${name}.vector`]!.data)).toBeLessThan(FIXTURE_TOLERANCE);
      if (c.forced_zero) expect(maxAbs(cond.data)).toBe(0);
      else expect(maxAbs(cond.data)).toBeGreaterThan(0.1);
      expect(maxAbsDiff((await at(96, 64)).vector!, fx[`${name}.vector_w96h64`]!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    });
  }

  it('schedule_batch: two prompts in one call share the emphasis mean', async () => {
    const { prompts } = cases.conditioning.cases.schedule_batch!;
    const conditioner = SDXL_FAMILY.conditioner(model, tokenizer);
    // a prompt-editing schedule encodes its texts as one batch
    const [schedule] = await conditioner.learned([`[${prompts![0]}:${prompts![1]}:0.5]`], 10, { clipSkip: 1, width: 64, height: 64 });
    expect(schedule!.length).toBe(2);
    const got = new Float32Array([...schedule![0]!.cond.data, ...schedule![1]!.cond.data]);
    expect(maxAbsDiff(got, fx['schedule_batch.crossattn']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    expect(maxAbsDiff(new Float32Array([...schedule![0]!.cond.vector!, ...schedule![1]!.cond.vector!]), fx['schedule_batch.vector']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });
});

describe('SDXL UNet (unet.safetensors)', () => {
  let fx: Tensors;
  beforeAll(async () => {
    fx = await readAll('unet.safetensors');
  });
  for (const name of ['t999_500', 't_fractional', 'ctx154', 'latent8x12', 'latent8x10']) {
    it(`${name}: eps within 1e-4`, async () => {
      const x = fx[`${name}.x`]!;
      const ctx = fx[`${name}.context`]!;
      const [batch, , h, w] = x.shape as [number, number, number, number];
      const eps = await model.unet.eps(x.data, fx[`${name}.t`]!.data, ctx.data, { batch, h, w, tokens: ctx.shape[1]! }, fx[`${name}.y`]!.data);
      expect(maxAbsDiff(eps, fx[`${name}.eps`]!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    });
  }

  it('refuses a call without the vector', async () => {
    const x = fx['t999_500.x']!;
    await expect(model.unet.eps(x.data, fx['t999_500.t']!.data, fx['t999_500.context']!.data, { batch: 2, h: 8, w: 8, tokens: 77 })).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('SDXL VAE (vae.safetensors, scale factor 0.13025)', () => {
  let fx: Tensors;
  beforeAll(async () => {
    fx = await readAll('vae.safetensors');
  });
  it('decode, decode_first_stage and a 12×8 latent within 1e-4', async () => {
    expect(maxAbsDiff(await model.vae.decode(fx['decode.z']!.data, { batch: 1, h: 8, w: 8 }), fx['decode.image']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    const inv = Math.fround(1 / config.scale_factor);
    const z = fx['decode.z']!.data.map((v) => Math.fround(v * inv));
    expect(maxAbsDiff(await model.vae.decode(z, { batch: 1, h: 8, w: 8 }), fx['decode_first_stage.image']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
    expect(maxAbsDiff(await model.vae.decode(fx['decode_wh.z']!.data, { batch: 1, h: 8, w: 12 }), fx['decode_wh.image']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });
  it('encode moments within 1e-4', async () => {
    const m = await model.vae.encodeMoments(fx['encode.image']!.data, { batch: 1, h: 8, w: 8 });
    expect(maxAbsDiff(m, fx['encode.moments']!.data)).toBeLessThan(FIXTURE_TOLERANCE);
  });
});

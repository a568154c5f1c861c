import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors, writeSafetensorsStreamed } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { detectCheckpointFamily, openCheckpoint } from './checkpoint.js';
import { SD1_TINY_CONFIG } from './config.js';
import { writeDiffusersFolder } from './test/diffusers-folder.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TINY_TEXT_ENCODER_CONFIG = { num_attention_heads: 4, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, bos_token_id: 49406, eos_token_id: 49407 };

describe('openCheckpoint, single file', () => {
  it('opens the fixture checkpoint with its keys as they are', async () => {
    const path = sd1TinyPath('model.safetensors');
    const ckpt = await openCheckpoint(path);
    const file = await SafetensorsFile.open(path);
    try {
      expect(ckpt.family).toBe('sd1');
      expect(ckpt.config).toEqual(SD1_TINY_CONFIG);
      expect(ckpt.tokenizerDir).toBeUndefined();
      expect(ckpt.keys()).toEqual(file.keys());
      const key = 'model.diffusion_model.input_blocks.1.1.proj_in.weight';
      expect(ckpt.shape(key)).toEqual([32, 32, 1, 1]);
      expect(ckpt.dtype(key)).toBe('F32');
      expect(await ckpt.readFloat32(key)).toEqual(await file.readFloat32(key));
      expect(ckpt.shape('nope')).toBeUndefined();
      await expect(ckpt.readFloat32('nope')).rejects.toMatchObject({ code: 'missing_key' });
    } finally {
      await ckpt.close();
      await file.close();
    }
  });

  it('renames legacy CLIP keys without the text_model level', async () => {
    const legacy = join(dir, 'legacy-clip.safetensors');
    const src = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
    const rename = (k: string) => k.replace('cond_stage_model.transformer.text_model.', 'cond_stage_model.transformer.');
    try {
      const keys = src.keys();
      await writeSafetensorsStreamed(
        legacy,
        keys.map((k) => ({ name: rename(k), dtype: src.info(k)!.dtype, shape: src.info(k)!.shape })),
        (_s, i) => src.readBytes(keys[i]),
        src.metadata,
      );
    } finally {
      await src.close();
    }
    const ckpt = await openCheckpoint(legacy);
    try {
      expect(ckpt.config).toEqual(SD1_TINY_CONFIG);
      expect(ckpt.keys()).toContain('cond_stage_model.transformer.text_model.final_layer_norm.weight');
      expect(ckpt.keys()).not.toContain('cond_stage_model.transformer.final_layer_norm.weight');
    } finally {
      await ckpt.close();
    }
  });

  it('refuses .ckpt files that are not torch files, missing paths and non-SD1 families with coded errors', async () => {
    // real torch .ckpt files load through the restricted reader (checkpoint-torch.test.ts)
    const ckptPath = join(dir, 'model.ckpt');
    await writeFile(ckptPath, 'PK');
    await expect(openCheckpoint(ckptPath)).rejects.toMatchObject({ code: 'unsupported_format' });
    await expect(openCheckpoint(join(dir, 'absent.safetensors'))).rejects.toMatchObject({ code: 'unsupported_format' });

    const sd2Like = join(dir, 'sd2-like.safetensors');
    await writeSafetensors(sd2Like, {
      'model.diffusion_model.out.2.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) },
      'cond_stage_model.model.ln_final.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) },
    });
    await expect(openCheckpoint(sd2Like)).rejects.toMatchObject({ code: 'unsupported_model_family' });
    expect((await detectCheckpointFamily(sd2Like)).family).toBe('sd2');
    expect((await detectCheckpointFamily(sd2Like, { parameterization: 'v' })).family).toBe('sd2-v');
    expect((await detectCheckpointFamily(sd1TinyPath('model.safetensors'))).family).toBe('sd1');
  });
});

describe('openCheckpoint, diffusers folder', () => {
  it('gives every key and value of the original single file', async () => {
    const folder = join(dir, 'diffusers-tiny');
    await writeDiffusersFolder(sd1TinyPath('model.safetensors'), folder, { vaeVariantName: true, textEncoderConfig: TINY_TEXT_ENCODER_CONFIG });
    const original = await openCheckpoint(sd1TinyPath('model.safetensors'));
    const ckpt = await openCheckpoint(folder);
    try {
      expect(ckpt.family).toBe('sd1');
      expect(ckpt.tokenizerDir).toBe(join(folder, 'tokenizer'));
      expect(ckpt.config).toEqual(original.config);
      expect([...ckpt.keys()].sort()).toEqual([...original.keys()].sort());
      for (const key of original.keys()) {
        expect(ckpt.shape(key), key).toEqual(original.shape(key));
        const [a, b] = await Promise.all([ckpt.readFloat32(key), original.readFloat32(key)]);
        // schedule buffers and position_ids are rebuilt, everything else is read: both must match exactly
        expect(a.length, key).toBe(b.length);
        expect(a.findIndex((v, i) => !Object.is(v, b[i])), key).toBe(-1);
      }
    } finally {
      await ckpt.close();
      await original.close();
    }
  });

  it('reads prediction type, VAE scale and head counts from the diffusers configs', async () => {
    const folder = join(dir, 'diffusers-v');
    await writeDiffusersFolder(sd1TinyPath('model.safetensors'), folder, {
      textEncoderConfig: TINY_TEXT_ENCODER_CONFIG,
      unetConfig: { attention_head_dim: 4 },
      vaeConfig: { scaling_factor: 0.13025 },
      schedulerConfig: { beta_start: 0.0001, beta_end: 0.02, num_train_timesteps: 1000, prediction_type: 'v_prediction' },
    });
    const ckpt = await openCheckpoint(folder);
    try {
      expect(ckpt.config.parameterization).toBe('v');
      expect(ckpt.config.scale_factor).toBe(0.13025);
      expect(ckpt.config.unet.num_heads).toBe(4);
      expect(ckpt.config.schedule).toEqual({ linear_start: 0.0001, linear_end: 0.02, timesteps: 1000 });
      const betas = await ckpt.readFloat32('betas');
      expect(betas[0]).toBe(Math.fround(0.0001));
      expect(betas[999]).toBe(Math.fround(0.02));
    } finally {
      await ckpt.close();
    }
  });

  it('says which component is missing', async () => {
    const folder = join(dir, 'diffusers-broken');
    await writeDiffusersFolder(sd1TinyPath('model.safetensors'), folder);
    await rm(join(folder, 'unet'), { recursive: true });
    await expect(openCheckpoint(folder)).rejects.toMatchObject({ code: 'unsupported_format', message: expect.stringContaining('unet/') });
  });
});

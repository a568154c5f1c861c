import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../native/io/safetensors.js';
import { familyOf, readModelFileInfo, summarizeMetadata, topTags } from './model-info.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) };

describe('readModelFileInfo', () => {
  it('summarises kohya ss_* metadata: trigger words by summed frequency, names, base model, network', async () => {
    const path = join(dir, 'detail.safetensors');
    await writeSafetensors(
      path,
      { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': tiny },
      {
        ss_output_name: 'add_detail',
        ss_base_model_version: 'sd_v1',
        ss_sd_model_name: 'v1-5-pruned-emaonly.safetensors',
        ss_resolution: '(512, 512)',
        ss_network_module: 'networks.lora',
        ss_network_dim: '16',
        ss_network_alpha: '8.0',
        ss_tag_frequency: JSON.stringify({ '10_detail': { 'detailed': 40, '1girl': 12, ' sharp ': 30 }, '5_extra': { '1girl': 25, 'sharp': 5 } }),
        sshs_model_hash: 'ABCDEF0123456789',
      },
    );
    const info = await readModelFileInfo(path);
    expect(info.family).toBe('sd1');
    expect(info.declaredHash).toBe('ABCDEF0123456789');
    expect(info.metadata).toEqual({
      output_name: 'add_detail',
      base_model: 'sd_v1',
      trained_on: 'v1-5-pruned-emaonly.safetensors',
      // 1girl 12+25=37 < detailed 40; sharp 30+5=35.
      trigger_words: ['detailed', '1girl', 'sharp'],
      resolution: '(512, 512)',
      network: { module: 'networks.lora', dim: 16, alpha: 8 },
    });
  });

  it('reads modelspec fields and the family from checkpoint keys', async () => {
    const path = join(dir, 'xl.safetensors');
    await writeSafetensors(path, { 'conditioner.embedders.0.transformer.text_model.x': tiny, 'model.diffusion_model.input_blocks.0.0.weight': tiny }, {
      'modelspec.title': 'Tiny XL',
      'modelspec.architecture': 'stable-diffusion-xl-v1-base',
      'modelspec.author': 'someone',
      'modelspec.trigger_phrase': 'tinyxl style',
    });
    const info = await readModelFileInfo(path);
    expect(info.family).toBe('sdxl');
    expect(info.metadata).toEqual({ title: 'Tiny XL', base_model: 'stable-diffusion-xl-v1-base', author: 'someone', trigger_words: ['tinyxl style'] });
  });

  it('answers unknown for other formats and broken files without throwing', async () => {
    expect(await readModelFileInfo(join(dir, 'missing.ckpt'))).toEqual({ family: 'unknown', metadata: {} });
    expect(await readModelFileInfo(join(dir, 'missing.safetensors'))).toEqual({ family: 'unknown', metadata: {} });
  });
});

describe('helpers', () => {
  it('topTags ignores junk', () => {
    expect(topTags('not json')).toEqual([]);
    expect(topTags(JSON.stringify({ a: { x: 'many', y: 2 } }))).toEqual(['y']);
    expect(topTags(JSON.stringify({ a: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${i}`, i])) }), 3)).toEqual(['t19', 't18', 't17']);
  });

  it('familyOf falls back to LoRA key prefixes', () => {
    expect(familyOf(['lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight'], {})).toBe('sdxl');
    expect(familyOf(['lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight'], {})).toBe('sd1');
    expect(familyOf(['whatever'], {})).toBe('unknown');
    expect(summarizeMetadata({})).toEqual({});
  });
});

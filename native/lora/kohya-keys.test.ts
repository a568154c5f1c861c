import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../models/checkpoint.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { loraTargetKey, partOfKey } from './kohya-keys.js';

const keyMap = (JSON.parse(readFileSync(sd1TinyPath('lora_key_map.json'), 'utf8')) as { map: Record<string, string> }).map;

describe('loraTargetKey', () => {
  it('maps all 296 fixture modules exactly as lora_key_map.json (checked against A1111)', () => {
    const entries = Object.entries(keyMap);
    expect(entries).toHaveLength(296);
    const wrong = entries.filter(([name, key]) => loraTargetKey(name) !== key).map(([name, key]) => `${name}: got ${loraTargetKey(name)}, want ${key}`);
    expect(wrong).toEqual([]);
  });

  it('every mapped key exists in an SD1 checkpoint', async () => {
    const ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
    try {
      for (const name of Object.keys(keyMap)) expect(ckpt.shape(loraTargetKey(name)!), name).toBeDefined();
    } finally {
      await ckpt.close();
    }
  });

  it('returns undefined for names it does not know', () => {
    expect(loraTargetKey('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_w')).toBeUndefined();
    expect(loraTargetKey('lora_te2_text_model_encoder_layers_0_mlp_fc1')).toBeUndefined();
    expect(loraTargetKey('lora_unet_time_embedding_linear_1')).toBeUndefined();
    expect(loraTargetKey('something_else')).toBeUndefined();
  });

  it('maps lora_te1_ names onto SD1 CLIP as A1111 does ("some SD1 LoRAs also have correct compvis keys")', () => {
    expect(loraTargetKey('lora_te1_text_model_encoder_layers_0_mlp_fc1')).toBe('cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight');
    expect(loraTargetKey('lora_te1_text_model_encoder_layers_0_mlp_fc1', 'sdxl')).toBe('conditioner.embedders.0.transformer.text_model.encoder.layers.0.mlp.fc1.weight');
  });

  it('tells the parts apart', () => {
    expect(partOfKey('model.diffusion_model.input_blocks.1.1.proj_in.weight')).toBe('unet');
    expect(partOfKey('cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight')).toBe('textEncoder');
    expect(partOfKey('first_stage_model.decoder.conv_in.weight')).toBe('other');
  });
});

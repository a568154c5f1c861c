import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../native/io/safetensors.js';
import { fixturePath } from '../../native/testing/fixtures.js';
import { legacyModelHash } from '../../native/models/model-hash.js';
import { controlNetFamily } from './controlnet-family.js';

const shapes = (m: Record<string, number[]>) => (k: string) => (m[k] ? { shape: m[k] } : undefined);

describe('controlNetFamily', () => {
  it('reads the tiny SD1 ControlNet fixture as sd1 (conv proj_in), and its legacy hash as the extension names it', async () => {
    const path = fixturePath('sd1-controlnet', 'control_tiny_canny.safetensors');
    const file = await SafetensorsFile.open(path);
    try {
      expect(controlNetFamily(file.keys(), (k) => file.info(k))).toBe('sd1');
    } finally {
      await file.close();
    }
    expect(await legacyModelHash(path)).toBe('93054dcb');
  });

  it('tells SD1, SD2 and SDXL ControlNets apart by cross-attention width and ADM keys, in both layouts', () => {
    const ldm = (w: number) => ({ 'control_model.input_hint_block.0.weight': [16, 3, 3, 3], 'control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight': [320, w] });
    expect(controlNetFamily(Object.keys(ldm(768)), shapes(ldm(768)))).toBe('sd1');
    expect(controlNetFamily(Object.keys(ldm(1024)), shapes(ldm(1024)))).toBe('sd2');
    const diffusersXl = { 'controlnet_cond_embedding.conv_in.weight': [16, 3, 3, 3], 'add_embedding.linear_1.weight': [1280, 2816], 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight': [640, 2048] };
    expect(controlNetFamily(Object.keys(diffusersXl), shapes(diffusersXl))).toBe('sdxl');
  });

  it('leaves files that are not ControlNets unknown (T2I-Adapter, control-LoRA)', () => {
    const adapter = { 'adapter.body.0.block1.weight': [320, 320, 3, 3] };
    expect(controlNetFamily(Object.keys(adapter), shapes(adapter))).toBe('unknown');
    const lora = { 'lora_controlnet': [0], 'input_blocks.1.1.transformer_blocks.0.attn2.to_k.up': [640, 8] };
    expect(controlNetFamily(Object.keys(lora), shapes(lora))).toBe('unknown');
  });
});

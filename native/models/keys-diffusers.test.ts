import { describe, expect, it } from 'vitest';
import { mapDiffusersKeys } from './keys-diffusers.js';

// A minimal SD1 UNet key set: enough blocks for the index arithmetic (2 res blocks per level,
// up block 0 without attention, up block 1 with it).
const UNET_KEYS = [
  'down_blocks.0.resnets.0.conv1.weight',
  'down_blocks.0.resnets.1.norm2.bias',
  'down_blocks.0.attentions.1.proj_in.weight',
  'down_blocks.0.downsamplers.0.conv.weight',
  'down_blocks.1.resnets.0.conv_shortcut.weight',
  'down_blocks.3.resnets.1.time_emb_proj.weight',
  'mid_block.resnets.1.time_emb_proj.weight',
  'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight',
  'up_blocks.0.resnets.2.conv2.bias',
  'up_blocks.0.upsamplers.0.conv.weight',
  'up_blocks.1.attentions.2.norm.weight',
  'up_blocks.1.upsamplers.0.conv.bias',
  'time_embedding.linear_2.weight',
  'conv_in.bias',
  'conv_norm_out.weight',
  'conv_out.weight',
];

describe('mapDiffusersKeys', () => {
  it('maps UNet blocks by the ldm index rules', () => {
    const map = Object.fromEntries(mapDiffusersKeys('unet', UNET_KEYS).map((m) => [m.source, m.target.replace('model.diffusion_model.', '')]));
    expect(map).toEqual({
      'down_blocks.0.resnets.0.conv1.weight': 'input_blocks.1.0.in_layers.2.weight',
      'down_blocks.0.resnets.1.norm2.bias': 'input_blocks.2.0.out_layers.0.bias',
      'down_blocks.0.attentions.1.proj_in.weight': 'input_blocks.2.1.proj_in.weight',
      'down_blocks.0.downsamplers.0.conv.weight': 'input_blocks.3.0.op.weight',
      'down_blocks.1.resnets.0.conv_shortcut.weight': 'input_blocks.4.0.skip_connection.weight',
      'down_blocks.3.resnets.1.time_emb_proj.weight': 'input_blocks.11.0.emb_layers.1.weight',
      'mid_block.resnets.1.time_emb_proj.weight': 'middle_block.2.emb_layers.1.weight',
      'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight': 'middle_block.1.transformer_blocks.0.attn2.to_k.weight',
      'up_blocks.0.resnets.2.conv2.bias': 'output_blocks.2.0.out_layers.3.bias',
      'up_blocks.0.upsamplers.0.conv.weight': 'output_blocks.2.1.conv.weight',
      'up_blocks.1.attentions.2.norm.weight': 'output_blocks.5.1.norm.weight',
      'up_blocks.1.upsamplers.0.conv.bias': 'output_blocks.5.2.conv.bias',
      'time_embedding.linear_2.weight': 'time_embed.2.weight',
      'conv_in.bias': 'input_blocks.0.0.bias',
      'conv_norm_out.weight': 'out.0.weight',
      'conv_out.weight': 'out.2.weight',
    });
  });

  it('maps the VAE, reversing decoder levels and reshaping attention projections to 1x1 convs', () => {
    const keys = [
      'decoder.up_blocks.0.resnets.2.conv_shortcut.weight',
      'decoder.up_blocks.3.resnets.0.norm1.bias',
      'decoder.up_blocks.1.upsamplers.0.conv.weight',
      'encoder.down_blocks.2.downsamplers.0.conv.bias',
      'encoder.mid_block.attentions.0.to_out.0.weight',
      'decoder.mid_block.attentions.0.query.weight',
      'decoder.mid_block.attentions.0.group_norm.weight',
      'decoder.mid_block.resnets.1.conv2.weight',
      'encoder.conv_norm_out.bias',
      'post_quant_conv.weight',
    ];
    const mapped = mapDiffusersKeys('vae', keys);
    expect(mapped.map((m) => m.target.replace('first_stage_model.', ''))).toEqual([
      'decoder.up.3.block.2.nin_shortcut.weight',
      'decoder.up.0.block.0.norm1.bias',
      'decoder.up.2.upsample.conv.weight',
      'encoder.down.2.downsample.conv.bias',
      'encoder.mid.attn_1.proj_out.weight',
      'decoder.mid.attn_1.q.weight',
      'decoder.mid.attn_1.norm.weight',
      'decoder.mid.block_2.conv2.weight',
      'encoder.norm_out.bias',
      'post_quant_conv.weight',
    ]);
    expect(mapped[4].reshape?.([512, 512])).toEqual([512, 512, 1, 1]);
    expect(mapped[4].reshape?.([512, 512, 1, 1])).toEqual([512, 512, 1, 1]);
    expect(mapped[6].reshape).toBeUndefined();
  });

  it('maps the text encoder under cond_stage_model.transformer', () => {
    expect(mapDiffusersKeys('text_encoder', ['text_model.encoder.layers.0.mlp.fc1.weight'])[0].target).toBe(
      'cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight',
    );
  });

  it('refuses keys outside the SD1 / SDXL layout', () => {
    expect(mapDiffusersKeys('unet', ['add_embedding.linear_1.weight'])[0]!.target).toBe('model.diffusion_model.label_emb.0.0.weight');
    expect(() => mapDiffusersKeys('unet', ['class_embedding.linear_1.weight'])).toThrow(expect.objectContaining({ code: 'unknown_key' }));
    expect(() => mapDiffusersKeys('text_encoder_2', ['text_model.encoder.layers.0.self_attn.q_proj.weight'])).toThrow(expect.objectContaining({ code: 'unknown_key' }));
    expect(() => mapDiffusersKeys('unet', ['down_blocks.0.resnets.0.weird.weight'])).toThrow(expect.objectContaining({ code: 'unknown_key' }));
    expect(() => mapDiffusersKeys('vae', ['encoder.mid_block.attentions.0.to_x.weight'])).toThrow(expect.objectContaining({ code: 'unknown_key' }));
    expect(() => mapDiffusersKeys('text_encoder', ['vision_model.post_layernorm.weight'])).toThrow(expect.objectContaining({ code: 'unknown_key' }));
  });
});

import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { CONFIG_METADATA_KEY, SD15_CONFIG, SD1_TINY_CONFIG, type SD1Config } from './config.js';
import { inferFromShapes, inferSd1Config, parseDeclaredConfig } from './infer-config.js';
import { loadKeyList } from './test/key-lists.js';

async function fixtureShapes(): Promise<{ shapeOf: (k: string) => number[] | undefined; metadata: Record<string, string> }> {
  const f = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
  await f.close(); // the header is all we need
  return { shapeOf: (k) => f.info(k)?.shape, metadata: f.metadata };
}

describe('inferSd1Config', () => {
  it('gives the real SD1.5 config for the full-size SD1.5 key list', () => {
    const { shapeOf } = loadKeyList('sd15');
    const config = inferSd1Config(shapeOf);
    expect(config).toEqual(SD15_CONFIG);
    // the headline numbers, spelled out
    expect(config.unet.model_channels).toBe(320);
    expect(config.unet.channel_mult).toEqual([1, 2, 4, 4]);
    expect(config.unet.num_res_blocks).toBe(2);
    expect(config.unet.context_dim).toBe(768);
    expect(config.clip_text).toMatchObject({ hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12 });
  });

  it('matches the fixture checkpoint declared config, except what shapes cannot tell', async () => {
    const { shapeOf, metadata } = await fixtureShapes();
    const declared = parseDeclaredConfig(metadata[CONFIG_METADATA_KEY]);
    const fromShapes = inferFromShapes(shapeOf);
    // CLIP head count is not in the shapes: hidden 32 / default width 64 does not give the declared 4
    const { num_attention_heads: declaredHeads, ...declaredClip } = declared.clip_text!;
    const { num_attention_heads: inferredHeads, ...inferredClip } = fromShapes.clip_text;
    expect(declaredHeads).toBe(4);
    expect(inferredHeads).not.toBe(4);
    expect(inferredClip).toEqual(declaredClip);
    expect(fromShapes.unet).toEqual(declared.unet);
    expect(fromShapes.vae).toEqual(declared.vae);
    expect(fromShapes.schedule).toEqual(declared.schedule);
    expect(fromShapes.scale_factor).toBe(declared.scale_factor);
    expect(fromShapes.parameterization).toBe(declared.parameterization);
  });

  it('lets the declared sd_tiny.config win over the defaults', async () => {
    const { shapeOf, metadata } = await fixtureShapes();
    const config = inferSd1Config(shapeOf, { metadata });
    expect(config).toEqual(SD1_TINY_CONFIG);
    expect(config.clip_text.num_attention_heads).toBe(4);
  });

  it('applies overrides below the declared config', async () => {
    const { shapeOf, metadata } = await fixtureShapes();
    const noMeta = inferSd1Config(shapeOf, { overrides: { parameterization: 'v', clip_text: { num_attention_heads: 2 } } });
    expect(noMeta.parameterization).toBe('v');
    expect(noMeta.clip_text.num_attention_heads).toBe(2);
    const withMeta = inferSd1Config(shapeOf, { metadata, overrides: { clip_text: { num_attention_heads: 2 } } });
    expect(withMeta.clip_text.num_attention_heads).toBe(4);
  });

  it('detects the 9-channel inpainting UNet and the linear proj_in of SD2-style transformers', () => {
    const { shapeOf } = loadKeyList('sd15');
    const inpaint = inferFromShapes((k) => (k === 'model.diffusion_model.input_blocks.0.0.weight' ? [320, 9, 3, 3] : shapeOf(k)));
    expect(inpaint.unet.in_channels).toBe(9);
    const linear = inferFromShapes((k) => (k.endsWith('.proj_in.weight') ? shapeOf(k)!.slice(0, 2) : shapeOf(k)));
    expect(linear.unet.use_linear_in_transformer).toBe(true);
  });

  it('refuses a declared config that contradicts the tensors', async () => {
    const { shapeOf } = await fixtureShapes();
    const bad = JSON.stringify({ unet: { model_channels: 64 } });
    expect(() => inferSd1Config(shapeOf, { metadata: { [CONFIG_METADATA_KEY]: bad } })).toThrow(
      expect.objectContaining({ code: 'config_mismatch', message: expect.stringContaining('unet.model_channels') }),
    );
  });

  it('reports the missing key when shapes are incomplete', () => {
    const { shapeOf } = loadKeyList('sd15');
    const key = 'first_stage_model.post_quant_conv.weight';
    expect(() => inferFromShapes((k) => (k === key ? undefined : shapeOf(k)))).toThrow(expect.objectContaining({ code: 'missing_key', message: expect.stringContaining(key) }));
  });

  it('rejects malformed declared configs with bad_config', () => {
    expect(() => parseDeclaredConfig('{nope')).toThrow(expect.objectContaining({ code: 'bad_config' }));
    expect(() => parseDeclaredConfig('{"unet": {"channel_mult": "1,2"}}')).toThrow(expect.objectContaining({ code: 'bad_config' }));
    expect(() => parseDeclaredConfig('{"parameterization": "x0"}')).toThrow(expect.objectContaining({ code: 'bad_config' }));
    const partial: Partial<SD1Config> = parseDeclaredConfig('{"unet": {"num_head_channels": -1, "num_heads": 5}, "extra": 1}') as Partial<SD1Config>;
    expect(partial).toEqual({ unet: { num_heads: 5 } });
  });
});

import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { SD1_TINY_CONFIG } from './config.js';
import { inferSd1Config } from './infer-config.js';
import { diffKeySet, sd1KeySpec } from './key-spec.js';
import { loadKeyList } from './test/key-lists.js';

describe('sd1KeySpec', () => {
  it('lists exactly the full-size SD1.5 keys, with their shapes and dtypes', () => {
    const list = loadKeyList('sd15');
    const spec = sd1KeySpec(inferSd1Config(list.shapeOf));
    expect(spec.length).toBe(1143);
    expect(diffKeySet(spec, list.keys, list.shapeOf)).toEqual({ missing: [], unexpected: [], wrongShape: [] });
    for (const s of spec) expect(s.dtype, s.key).toBe(list.dtypeOf(s.key));
  });

  it('lists exactly the fixture checkpoint keys, with their shapes and dtypes', async () => {
    const f = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
    await f.close();
    const spec = sd1KeySpec(inferSd1Config((k) => f.info(k)?.shape, { metadata: f.metadata }));
    expect(spec.length).toBe(999);
    expect(diffKeySet(spec, f.keys(), (k) => f.info(k)?.shape)).toEqual({ missing: [], unexpected: [], wrongShape: [] });
    for (const s of spec) expect(s.dtype, s.key).toBe(f.info(s.key)!.dtype);
  });

  it('follows the config: inpainting input, linear projections, fewer CLIP layers', () => {
    const base = new Map(sd1KeySpec(SD1_TINY_CONFIG).map((s) => [s.key, s.shape]));
    const inpaint = new Map(sd1KeySpec({ ...SD1_TINY_CONFIG, unet: { ...SD1_TINY_CONFIG.unet, in_channels: 9 } }).map((s) => [s.key, s.shape]));
    expect(inpaint.get('model.diffusion_model.input_blocks.0.0.weight')).toEqual([32, 9, 3, 3]);
    expect(base.get('model.diffusion_model.input_blocks.0.0.weight')).toEqual([32, 4, 3, 3]);
    const lin = new Map(sd1KeySpec({ ...SD1_TINY_CONFIG, unet: { ...SD1_TINY_CONFIG.unet, use_linear_in_transformer: true } }).map((s) => [s.key, s.shape]));
    expect(lin.get('model.diffusion_model.middle_block.1.proj_in.weight')).toEqual([128, 128]);
    expect(base.get('model.diffusion_model.middle_block.1.proj_in.weight')).toEqual([128, 128, 1, 1]);
  });

  it('reports differences key by key', () => {
    const spec = sd1KeySpec(SD1_TINY_CONFIG);
    const keys = spec.map((s) => s.key).filter((k) => k !== 'betas');
    keys.push('model_ema.decay');
    const diff = diffKeySet(spec, keys, (k) => (k === 'model.diffusion_model.out.2.bias' ? [5] : spec.find((s) => s.key === k)?.shape));
    expect(diff.missing).toEqual(['betas']);
    expect(diff.unexpected).toEqual(['model_ema.decay']);
    expect(diff.wrongShape).toEqual(['model.diffusion_model.out.2.bias: expected [4] got [5]']);
  });
});

// An SDXL diffusers folder (unet/, vae/, text_encoder/, text_encoder_2/ in transformers naming)
// written from sdxl-tiny by the test helper's independent inverse mapping: it opens as SDXL with
// the single file's config and every tensor value (q/k/v joined into OpenCLIP's in_proj, the
// projection transposed back), so it generates what the single file generates.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../models/checkpoint.js';
import { writeDiffusersFolder } from '../../models/test/diffusers-folder.js';
import { sdxlTinyPath } from '../../testing/fixtures.js';

describe('SDXL diffusers folder', () => {
  it('gives every tensor and the config of the single file', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'easel-sdxl-diffusers-')), 'xl');
    await writeDiffusersFolder(sdxlTinyPath('model.safetensors'), folder, {
      unetConfig: { attention_head_dim: [4, 8, 16], block_out_channels: [32, 64, 128], transformer_layers_per_block: [1, 1, 2], addition_embed_type: 'text_time' },
      textEncoderConfig: { num_attention_heads: 4, hidden_act: 'quick_gelu' },
      textEncoder2Config: { num_attention_heads: 4, hidden_act: 'gelu', layer_norm_eps: 1e-5 },
      vaeConfig: { scaling_factor: 0.13025 },
    });
    const [single, dir] = await Promise.all([openCheckpoint(sdxlTinyPath('model.safetensors')), openCheckpoint(folder)]);
    try {
      expect(dir.family).toBe('sdxl');
      expect(dir.config).toEqual(single.config);
      const only = (keys: string[]) => keys.filter((k) => k !== 'denoiser.sigmas' && !k.endsWith('logit_scale')).sort();
      expect(only(dir.keys())).toEqual(only(single.keys()));
      for (const key of only(single.keys())) {
        expect(dir.shape(key), key).toEqual(single.shape(key));
        const [a, b] = await Promise.all([dir.readFloat32(key), single.readFloat32(key)]);
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), key).toBe(true);
      }
    } finally {
      await Promise.all([single.close(), dir.close()]);
    }
  });
});

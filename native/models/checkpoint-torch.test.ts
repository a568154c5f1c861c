// openCheckpoint on torch files (.ckpt / .pt / .pth): the fixture checkpoint re-saved in the
// layout torch.save writes must give the same keys, shapes, values, family and config as the
// safetensors original; hostile pickles must be refused before anything runs.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../io/dtype.js';
import { SafetensorsFile } from '../io/safetensors.js';
import { PickleWriter, type PyValue } from '../io/testing/pickle-writer.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { detectCheckpointFamily, openCheckpoint } from './checkpoint.js';
import { SD1_TINY_CONFIG } from './config.js';
import { inferSd1Config } from './infer-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-ckpt-torch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// What a Lightning-trained SD 1.x .ckpt holds beside the weights (sd-v1-4.ckpt has this shape).
function lightningWrapper(stateDict: PyValue): PyValue {
  const int64 = new Uint8Array(8);
  new DataView(int64.buffer).setBigInt64(0, 470000n, true);
  const globalStep: PyValue = {
    call: ['numpy.core.multiarray', 'scalar'],
    args: [{ call: ['numpy', 'dtype'], args: ['i8', false, true], state: { tuple: [3, '<', null, null, null, -1, -1, 0] } }, int64],
  };
  return {
    dict: [
      ['epoch', 6],
      ['global_step', globalStep],
      ['pytorch-lightning_version', '1.4.2'],
      ['state_dict', stateDict],
      ['callbacks', { dict: [[{ global: ['pytorch_lightning.callbacks.model_checkpoint', 'ModelCheckpoint'] }, { dict: [['monitor', null], ['best_model_score', null]] }]] }],
    ],
  };
}

/** Re-saves the fixture checkpoint as torch.save would, optionally with F32 weights as F16. */
async function fixtureAsTorch(path: string, half: boolean): Promise<void> {
  const src = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
  try {
    const storages: Record<string, Uint8Array> = {};
    const entries: [PyValue, PyValue][] = [];
    let i = 0;
    for (const key of src.keys()) {
      const info = src.info(key)!;
      let bytes = await src.readBytes(key);
      let dtype = info.dtype;
      if (half && dtype === 'F32') {
        bytes = new Uint8Array(f32ToF16(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)).buffer);
        dtype = 'F16';
      }
      const storage = String(i);
      storages[storage] = bytes;
      const numel = info.shape.reduce((a, d) => a * d, 1);
      // torch saves nn.Parameters through _rebuild_parameter and buffers as plain tensors
      entries.push([key, { tensor: { storage, dtype, storageNumel: numel, shape: info.shape, parameter: i % 2 === 0 } }]);
      i++;
    }
    await writeTorchZip(path, lightningWrapper({ dict: entries, ordered: true }), { storages, prefix: 'model' });
  } finally {
    await src.close();
  }
}

describe('openCheckpoint on torch files', () => {
  for (const half of [false, true]) {
    it(`gives the fixture's keys, shapes and values from a ${half ? 'F16' : 'F32'} .ckpt with a state_dict wrapper`, async () => {
      const path = join(dir, `tiny-${half ? 'f16' : 'f32'}.ckpt`);
      await fixtureAsTorch(path, half);
      const src = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
      const ckpt = await openCheckpoint(path, { overrides: { clip_text: { num_attention_heads: 4 } } });
      try {
        expect(ckpt.family).toBe('sd1');
        expect(ckpt.metadata).toEqual({});
        // the fixture's declared config, less what only metadata can say (the CLIP head count, given above)
        expect(ckpt.config).toEqual(SD1_TINY_CONFIG);
        expect(ckpt.keys()).toEqual(src.keys());
        for (const key of src.keys()) {
          const info = src.info(key)!;
          expect(ckpt.shape(key), key).toEqual(info.shape);
          expect(ckpt.dtype(key), key).toBe(half && info.dtype === 'F32' ? 'F16' : info.dtype);
          const [got, original] = await Promise.all([ckpt.readFloat32(key), src.readFloat32(key)]);
          const want = half && info.dtype === 'F32' ? f16ToF32(f32ToF16(original)) : original;
          expect(got.length, key).toBe(want.length);
          expect(Buffer.compare(new Uint8Array(got.buffer, got.byteOffset, got.byteLength), new Uint8Array(want.buffer, want.byteOffset, want.byteLength)), key).toBe(0);
        }
      } finally {
        await ckpt.close();
        await src.close();
      }
    });
  }

  it('infers the config from shapes alone, like a safetensors file without metadata', async () => {
    const path = join(dir, 'tiny-f32.ckpt');
    if (!existsSync(path)) await fixtureAsTorch(path, false);
    const src = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
    const ckpt = await openCheckpoint(path);
    try {
      expect(ckpt.config).toEqual(inferSd1Config((k) => src.info(k)?.shape));
      expect((await detectCheckpointFamily(path)).family).toBe('sd1');
    } finally {
      await ckpt.close();
      await src.close();
    }
  });

  it('refuses a .ckpt whose pickle calls os.system, and nothing runs', async () => {
    const marker = join(dir, 'pwned');
    const path = join(dir, 'evil.ckpt');
    const pickle = new PickleWriter().proto().global('os', 'system').str(`touch ${marker}`).op(0x85, 0x52).stop().toBytes();
    await writeTorchZip(path, null, { pickle });
    await expect(openCheckpoint(path)).rejects.toMatchObject({ code: 'unsafe_pickle', message: expect.stringContaining("'os.system'") });
    await expect(detectCheckpointFamily(path)).rejects.toMatchObject({ code: 'unsafe_pickle' });
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a torch file without tensors', async () => {
    const path = join(dir, 'empty.pt');
    await writeTorchZip(path, { dict: [['name', 'nothing']] });
    await expect(openCheckpoint(path)).rejects.toMatchObject({ code: 'unsupported_format', message: expect.stringContaining('no state dict') });
  });
});

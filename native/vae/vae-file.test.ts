// VAE override: a VAE file made from the tiny checkpoint's own VAE decodes identically; the same
// file with one weight changed decodes differently; prefix-less keys are accepted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors, type TensorData } from '../io/safetensors.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel, type DiffusionModel } from '../runtime/diffusion-model.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import { VaeFile } from './vae-file.js';

let dir: string;
let ckpt: Checkpoint;
let model: DiffusionModel;
let z: Float32Array;
let expected: Float32Array;
const CHANGED = 'decoder.conv_out.bias';

async function writeVae(path: string, prefix: string, perturb: boolean): Promise<void> {
  const tensors: Record<string, TensorData> = {};
  for (const k of ckpt.keys().filter((k) => k.startsWith('first_stage_model.'))) {
    const short = k.slice('first_stage_model.'.length);
    const data = await ckpt.readFloat32(k);
    if (perturb && short === CHANGED) data[0] += 0.5;
    tensors[prefix + short] = { dtype: 'F32', shape: ckpt.shape(k)!, data };
  }
  tensors['loss.logvar'] = { dtype: 'F32', shape: [], data: Float32Array.of(0) };
  await writeSafetensors(path, tensors);
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'easel-vae-'));
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  model = await loadDiffusionModel(ckpt, { runtime: await createEngineRuntime({ device: 'cpu' }) });
  const fx = await SafetensorsFile.open(sd1TinyPath('vae.safetensors'));
  z = await fx.readFloat32('decode.z');
  expected = await fx.readFloat32('decode.image');
  await fx.close();
  await writeVae(join(dir, 'same.safetensors'), '', false);
  await writeVae(join(dir, 'changed.safetensors'), 'first_stage_model.', true);
});
afterAll(async () => {
  await model?.dispose();
  await ckpt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('VAE override', () => {
  it('the checkpoint VAE decodes to the fixture', async () => {
    expect(maxDiff(await model.vae.decode(z, { batch: 1, h: 8, w: 8 }), expected)).toBeLessThan(1e-4);
  });

  it('a file with the same weights (no prefix) decodes identically', async () => {
    const vae = await VaeFile.open(join(dir, 'same.safetensors'));
    expect(vae.name).toBe('same.safetensors');
    expect(vae.keys()).not.toContain('first_stage_model.loss.logvar');
    model.useWeights('vae', { id: `vae:${vae.version}`, source: vae.overlay(ckpt) });
    expect(maxDiff(await model.vae.decode(z, { batch: 1, h: 8, w: 8 }), expected)).toBeLessThan(1e-4);
    await vae.close();
  });

  it('a file with a changed weight changes the decode; switching back restores it', async () => {
    const vae = await VaeFile.open(join(dir, 'changed.safetensors'));
    model.useWeights('vae', { id: `vae:${vae.version}`, source: vae.overlay(ckpt) });
    const img = await model.vae.decode(z, { batch: 1, h: 8, w: 8 });
    expect(maxDiff(img, expected)).toBeGreaterThan(0.1);
    model.useWeights('vae', null);
    expect(maxDiff(await model.vae.decode(z, { batch: 1, h: 8, w: 8 }), expected)).toBeLessThan(1e-4);
    await vae.close();
  });

  it('reads a .ckpt state_dict through the restricted reader', async () => {
    const path = join(dir, 'old.ckpt');
    const t = { tensor: { storage: '0', dtype: 'F32' as const, storageNumel: 2, shape: [2] } };
    await writeTorchZip(path, { dict: [['state_dict', { dict: [['decoder.conv_in.weight', t], ['loss.discriminator.x', t]] }], ['global_step', 7]] }, {
      storages: { '0': new Uint8Array(Float32Array.of(1.5, -2).buffer) },
    });
    const vae = await VaeFile.open(path);
    expect(vae.keys()).toEqual(['first_stage_model.decoder.conv_in.weight']);
    const src = vae.overlay(ckpt);
    expect([...(await src.readFloat32('first_stage_model.decoder.conv_in.weight'))]).toEqual([1.5, -2]);
    expect(src.shape('model.diffusion_model.out.2.weight')).toEqual(ckpt.shape('model.diffusion_model.out.2.weight'));
    await vae.close();
  });

  it('refuses files that are not an SD VAE', async () => {
    await writeSafetensors(join(dir, 'diffusers.safetensors'), { 'decoder.mid_block.resnets.0.conv1.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    await expect(VaeFile.open(join(dir, 'diffusers.safetensors'))).rejects.toMatchObject({ code: 'bad_vae_file' });
    await expect(VaeFile.open(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'vae_not_found' });
  });
});

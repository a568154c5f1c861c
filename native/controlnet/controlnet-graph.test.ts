// The ControlNet graph against the extension's raw outputs (sd1-controlnet/controlnet.safetensors:
// `<case>.u<k>.x/.timesteps/.context/.hint` → `.out.00`…`.out.12`), for the lllyasviel F16 file and
// the same weights written under diffusers names (controlnet_key_map.json) as a single file and as
// a folder; and refusals of other control models.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors } from '../io/safetensors.js';
import type { PyValue } from '../io/testing/pickle-writer.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import { maxAbsDiff } from '../models/graph-test-utils.js';
import { createEngineRuntime, type EngineRuntime } from '../runtime/ort-backend.js';
import { openControlNet } from './controlnet-file.js';
import { ControlNetModel } from './controlnet-model.js';
import { cnFixturePath, readCnTensors, residualTolerance } from './test-fixture.js';

const CASES = ['canny_balanced', 'canny_controlnet_more_important_res128', 'two_units_canny_none_fill.u1'];
const dir = mkdtempSync(join(tmpdir(), 'easel-cn-'));
let runtime: EngineRuntime;
let diffusersFile: string;

beforeAll(async () => {
  runtime = await createEngineRuntime({ device: 'cpu' });
  // The fixture's key map renames every ldm key; write the same tensors (kept F16) under diffusers names.
  const map = (JSON.parse(readFileSync(cnFixturePath('controlnet_key_map.json'), 'utf8')) as { ldm_to_diffusers: Record<string, string> }).ldm_to_diffusers;
  const src = await SafetensorsFile.open(cnFixturePath('control_tiny_canny.safetensors'));
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const key of src.keys()) {
    const bare = key.replace(/^control_model\./, '');
    const target = map[bare];
    if (!target) throw new Error(`key map lacks ${bare}`);
    tensors[target] = { dtype: 'F32', shape: src.info(key)!.shape, data: await src.readFloat32(key) };
  }
  await src.close();
  diffusersFile = join(dir, 'tiny_diffusers_canny.safetensors');
  await writeSafetensors(diffusersFile, tensors);
  mkdirSync(join(dir, 'folder_cn'));
  await writeSafetensors(join(dir, 'folder_cn', 'diffusion_pytorch_model.safetensors'), tensors);
  writeFileSync(join(dir, 'folder_cn', 'config.json'), '{"_class_name": "ControlNetModel"}');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function checkOutputs(model: ControlNetModel, name: string): Promise<number> {
  const fx = await readCnTensors(`${name.includes('.u') ? name : `${name}.u0`}.`);
  const [batch, , h, w] = fx.x!.shape;
  const out = await model.residuals(fx.x!.data, fx.timesteps!.data, fx.context!.data, fx.hint!.data, { batch: batch!, h: h!, w: w!, tokens: fx.context!.shape[1]! });
  expect(out).toHaveLength(13);
  let worst = 0;
  out.forEach((o, i) => {
    const ref = fx[`out.${String(i).padStart(2, '0')}`]!.data;
    const d = maxAbsDiff(o, ref);
    expect(d, `out.${i}`).toBeLessThanOrEqual(residualTolerance(ref));
    worst = Math.max(worst, d);
  });
  return worst;
}

describe('ControlNet graph (sd1-controlnet, lllyasviel F16 file)', () => {
  it('infers the config of the fixture from shapes', async () => {
    const file = await openControlNet(cnFixturePath('control_tiny_canny.safetensors'));
    const declared = JSON.parse(file.metadataConfig ?? '{}') as Record<string, unknown>;
    expect(file.layout).toBe('ldm');
    expect(file.name).toBe('control_tiny_canny');
    expect(file.config.family).toBe('sd1');
    expect(file.config.unet.model_channels).toBe(declared.model_channels);
    expect(file.config.unet.channel_mult).toEqual(declared.channel_mult);
    expect(file.config.unet.context_dim).toBe(declared.context_dim);
    expect([...file.config.unet.attention_resolutions].sort()).toEqual(declared.attention_resolutions);
    expect(file.dtype('input_blocks.0.0.weight')).toBe('F16');
    await file.close();
  });

  for (const name of CASES) {
    it(`${name}: 13 raw residuals within 1e-4·max|ref|`, async () => {
      const model = new ControlNetModel(await openControlNet(cnFixturePath('control_tiny_canny.safetensors')), runtime, 'fp32');
      try {
        await checkOutputs(model, name);
      } finally {
        await model.dispose();
      }
    });
  }

  it('notices a perturbed zero conv (the comparison can fail)', async () => {
    const file = await openControlNet(cnFixturePath('control_tiny_canny.safetensors'));
    const read = file.readFloat32.bind(file);
    file.readFloat32 = async (k) => {
      const d = await read(k);
      if (k === 'zero_convs.5.0.bias') d[0] += 0.05;
      return d;
    };
    const model = new ControlNetModel(file, runtime, 'fp32');
    try {
      await expect(checkOutputs(model, 'canny_balanced')).rejects.toThrow(/out\.5/);
    } finally {
      await model.dispose();
    }
  });
});

describe('ControlNet file layouts', () => {
  it('a diffusers-named single file loads to the same weights and outputs', async () => {
    const a = await openControlNet(cnFixturePath('control_tiny_canny.safetensors'));
    const b = await openControlNet(diffusersFile);
    expect(b.layout).toBe('diffusers');
    expect(b.keys().sort()).toEqual(a.keys().sort());
    for (const k of a.keys()) expect(maxAbsDiff(await a.readFloat32(k), await b.readFloat32(k)), k).toBe(0);
    expect(b.config).toEqual(a.config);
    await a.close();
    const model = new ControlNetModel(b, runtime, 'fp32');
    try {
      await checkOutputs(model, 'canny_balanced');
    } finally {
      await model.dispose();
    }
  });

  it('an lllyasviel .pth (torch.save zip, F16) loads through the pickle reader to the same weights and outputs', async () => {
    const src = await SafetensorsFile.open(cnFixturePath('control_tiny_canny.safetensors'));
    const storages: Record<string, Uint8Array> = {};
    const entries: [PyValue, PyValue][] = [];
    for (const [i, key] of src.keys().entries()) {
      const info = src.info(key)!;
      storages[String(i)] = await src.readBytes(key);
      entries.push([key, { tensor: { storage: String(i), dtype: info.dtype, storageNumel: info.shape.reduce((a, d) => a * d, 1), shape: info.shape } }]);
    }
    await src.close();
    const pth = join(dir, 'control_tiny_canny.pth');
    await writeTorchZip(pth, { dict: entries, ordered: true }, { storages, prefix: 'archive' });
    const f = await openControlNet(pth);
    expect(f.layout).toBe('ldm');
    expect(f.name).toBe('control_tiny_canny');
    expect(f.dtype('zero_convs.0.0.weight')).toBe('F16');
    const model = new ControlNetModel(f, runtime, 'fp32');
    try {
      await checkOutputs(model, 'canny_balanced');
    } finally {
      await model.dispose();
    }
  });

  it('a diffusers folder (config.json + diffusion_pytorch_model.safetensors) loads', async () => {
    const f = await openControlNet(join(dir, 'folder_cn'));
    expect(f.layout).toBe('diffusers');
    expect(f.name).toBe('folder_cn');
    expect(f.keys()).toHaveLength(340);
    await f.close();
  });

  const refuse = async (name: string, tensors: Record<string, number[]>, what: RegExp) => {
    const p = join(dir, name);
    await writeSafetensors(p, Object.fromEntries(Object.entries(tensors).map(([k, s]) => [k, { dtype: 'F32' as const, shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) }])));
    const err = await openControlNet(p).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).toBe('unsupported_controlnet');
    expect(err?.message).toContain(p);
    expect(err?.message).toMatch(what);
  };

  it('refuses T2I-Adapters, control-LoRAs, IP-Adapters and unknown files with unsupported_controlnet', async () => {
    await refuse('t2i.safetensors', { 'adapter.body.0.resnets.0.block1.weight': [2, 2, 1, 1], 'adapter.conv_in.weight': [2, 192, 3, 3] }, /T2I-Adapter/);
    await refuse('lora.safetensors', { lora_controlnet: [1], 'input_hint_block.0.weight': [16, 3, 3, 3] }, /control-LoRA/);
    await refuse('ip.safetensors', { 'image_proj.proj.weight': [4, 4], 'ip_adapter.1.to_k_ip.weight': [4, 4] }, /IP-Adapter/);
    await refuse('other.safetensors', { 'foo.weight': [1] }, /not a ControlNet/);
  });

  it('refuses SD 2.x ControlNets (context 1024)', async () => {
    const src = await openControlNet(cnFixturePath('control_tiny_canny.safetensors'));
    const shapes: Record<string, number[]> = {};
    for (const k of src.keys()) {
      const s = src.shape(k)!;
      shapes[k] = /attn2\.to_[kv]\.weight$/.test(k) ? [s[0]!, 1024] : [...s];
    }
    await src.close();
    await refuse('control_sd21.safetensors', shapes, /SD 2\.x/);
  });
});

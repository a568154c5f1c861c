// Architecture detection and key conversion against the upscale-tiny fixture: every layout of a
// model gives the same network (same hyperparameters, same old-layout keys in the same order, the
// same tensors bit for bit), wrappers and prefixes are unwrapped as spandrel does, and files of
// other architectures or damaged files are refused with their codes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { writeSafetensors, type TensorData } from '../io/safetensors.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import type { PyValue } from '../io/testing/pickle-writer.js';
import { detectUpscaler, type UpscalerSpec } from './architectures.js';
import { readUpscalerStateDict } from './state-dict.js';
import { loadUpscaler } from './model.js';
import { UpscaleError } from './upscale-error.js';

const dir = (name: string) => fixturePath('upscale-tiny', name);
const tmp = mkdtempSync(join(tmpdir(), 'easel-upscale-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FixtureModel {
  spandrel: { scale: number; input_channels: number; output_channels: number; module_hyperparameters: Record<string, unknown> };
  files: Record<string, { layout: string; container: string | null; keys: number }>;
}
const models = (JSON.parse(readFileSync(dir('cases.json'), 'utf8')) as { models: Record<string, FixtureModel> }).models;

async function specOf(path: string): Promise<{ spec: UpscalerSpec; tensors: Map<string, Float32Array>; close(): Promise<void> }> {
  const sd = await readUpscalerStateDict(path);
  const spec = detectUpscaler(sd, path);
  const tensors = new Map<string, Float32Array>();
  for (const [k, t] of spec.tensors) tensors.set(k, await t.read());
  return { spec, tensors, close: () => sd.close() };
}

function hyper(spec: UpscalerSpec): Record<string, unknown> {
  const { tensors: _t, ...rest } = spec;
  return rest;
}

async function rejection(p: Promise<unknown>): Promise<UpscaleError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpscaleError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** The fixture's new-layout tensors, as plain data to rewrite under other names. */
async function newLayoutTensors(): Promise<Array<[string, TensorData]>> {
  const sd = await readUpscalerStateDict(dir('rrdb_x4_new.safetensors'));
  const out: Array<[string, TensorData]> = [];
  for (const [k, t] of sd.tensors) out.push([k, { dtype: 'F32', shape: [...t.shape], data: await t.read() }]);
  await sd.close();
  return out;
}

describe('upscaler detection (spandrel 0.3.4 rules)', () => {
  for (const [name, model] of Object.entries(models)) {
    it(`${name}: every file gives the fixture's network, tensors identical`, async () => {
      let first: Awaited<ReturnType<typeof specOf>> | undefined;
      for (const [file, info] of Object.entries(model.files)) {
        const got = await specOf(dir(file));
        const h = model.spandrel.module_hyperparameters;
        expect(got.spec.scale).toBe(model.spandrel.scale);
        expect(got.spec.inChannels).toBe(model.spandrel.input_channels);
        expect(got.spec.outChannels).toBe(model.spandrel.output_channels);
        expect(got.spec.tensors.size).toBe(info.keys);
        if (got.spec.arch === 'ESRGAN') {
          expect(got.spec.numFilters).toBe(h.num_filters);
          expect(got.spec.numBlocks).toBe(h.num_blocks);
          expect(got.spec.shuffle).toBe(h.shuffle_factor ?? 0);
          expect(2 ** got.spec.upconvs).toBe(h.scale);
          expect(got.spec.plus).toBe(false);
        } else {
          expect(got.spec.numFilters).toBe(h.num_feat);
          expect(got.spec.numConv).toBe(h.num_conv);
        }
        if (!first) first = got;
        else {
          expect(hyper(got.spec)).toEqual(hyper(first.spec));
          // Key order follows the container (safetensors headers are sorted); the set must match.
          expect([...got.tensors.keys()].sort()).toEqual([...first.tensors.keys()].sort());
          for (const [k, v] of first.tensors) expect(Buffer.from(got.tensors.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
          await got.close();
        }
      }
      await first?.close();
    });
  }

  it('converts Real-ESRGAN names to the old layout as the README table says, in module order', async () => {
    const { spec, close } = await specOf(dir('rrdb_x4_new.pth'));
    const old = await specOf(dir('rrdb_x4_old.pth'));
    const keys = [...spec.tensors.keys()];
    expect(keys).toEqual([...old.spec.tensors.keys()]);
    await old.close();
    expect(keys.slice(0, 3)).toEqual(['model.0.weight', 'model.0.bias', 'model.1.sub.0.RDB1.conv1.0.weight']);
    expect(keys).toContain('model.1.sub.1.RDB3.conv5.0.bias');
    expect(keys).toContain('model.1.sub.2.weight');
    expect(keys).toContain('model.6.weight');
    expect(keys.slice(-2)).toEqual(['model.10.weight', 'model.10.bias']);
    await close();
  });

  it('reads BSRGAN names, netG. prefixes and the params_ema-over-params rule', async () => {
    const tensors = await newLayoutTensors();
    const bsrgan = (k: string) =>
      k
        .replace(/^body\.(\d+)\.rdb/, 'RRDB_trunk.$1.RDB')
        .replace(/^conv_body\./, 'trunk_conv.')
        .replace(/^conv_up(\d)\./, 'upconv$1.')
        .replace(/^conv_hr\./, 'HRconv.');
    const bsrganPath = join(tmp, 'bsrgan.safetensors');
    await writeSafetensors(bsrganPath, Object.fromEntries(tensors.map(([k, t]) => [`netG.${bsrgan(k)}`, t])));

    // A .pth with a decoy `params` dict and the real weights under params_ema with module. prefixes.
    const storages: Record<string, Uint8Array> = {};
    const entries: Array<[PyValue, PyValue]> = tensors.map(([k, t], i) => {
      storages[String(i)] = new Uint8Array((t.data as Float32Array).buffer.slice(0));
      const numel = t.shape.reduce((a, d) => a * d, 1);
      return [`module.${k}`, { tensor: { storage: String(i), dtype: 'F32', storageNumel: numel, shape: t.shape } }];
    });
    const decoy: PyValue = { dict: [['conv_first.weight', 1]] };
    const pthPath = join(tmp, 'wrapped.pth');
    await writeTorchZip(pthPath, { dict: [['params', decoy], ['params_ema', { dict: entries, ordered: true }]] }, { storages });

    const ref = await specOf(dir('rrdb_x4_old.pth'));
    for (const path of [bsrganPath, pthPath]) {
      const got = await specOf(path);
      expect(hyper(got.spec)).toEqual(hyper(ref.spec));
      expect([...got.tensors.keys()].sort()).toEqual([...ref.tensors.keys()].sort());
      for (const [k, v] of ref.tensors) expect(Buffer.from(got.tensors.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
      await got.close();
    }
    await ref.close();
  });

  it('detects ESRGAN+ (conv1x1 residual paths) in the old layout', async () => {
    const tensors = await newLayoutTensors();
    const old = await specOf(dir('rrdb_x4_old.safetensors'));
    const out: Record<string, TensorData> = {};
    for (const [k, v] of old.tensors) out[k] = { dtype: 'F32', shape: [...old.spec.tensors.get(k)!.shape], data: v };
    for (let i = 0; i < 2; i++) for (let j = 1; j <= 3; j++) out[`model.1.sub.${i}.RDB${j}.conv1x1.weight`] = { dtype: 'F32', shape: [32, 8, 1, 1], data: new Float32Array(256) };
    const path = join(tmp, 'plus.safetensors');
    await writeSafetensors(path, out);
    const plus = await loadUpscaler(path);
    expect(plus.spec.arch === 'ESRGAN' && plus.spec.plus).toBe(true);
    // Zero conv1x1 weights: x2 is unchanged, x4 gains x2 — the output must differ from plain RRDBNet.
    const x = new Float32Array(3 * 8 * 8).map((_, i) => (i % 17) / 17);
    const plain = await loadUpscaler(dir('rrdb_x4_old.safetensors'));
    const a = await plus.forward(x, 8, 8), b = await plain.forward(x, 8, 8);
    expect(a.length).toBe(b.length);
    expect(a.some((v, i) => Math.abs(v - b[i]!) > 1e-3)).toBe(true);
    await Promise.all([plus.dispose(), plain.dispose(), old.close()]);
    expect(tensors.length).toBe(72);
  });

  it('refuses other architectures with unsupported_upscaler naming what they look like', async () => {
    const t = (shape: number[]): TensorData => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, d) => a * d, 1)) });
    const swinir = join(tmp, '4x-SwinIR.safetensors');
    await writeSafetensors(swinir, {
      'conv_first.weight': t([60, 3, 3, 3]),
      'layers.0.residual_group.blocks.0.norm1.weight': t([60]),
      'layers.0.residual_group.blocks.0.attn.relative_position_bias_table': t([225, 6]),
    });
    const dat = join(tmp, 'DAT.safetensors');
    await writeSafetensors(dat, { 'layers.0.blocks.0.attn.attns.0.pos.pos_proj.weight': t([4, 2]) });
    const junk = join(tmp, 'junk.safetensors');
    await writeSafetensors(junk, { 'foo.weight': t([2]) });
    for (const [path, looks] of [[swinir, 'SwinIR'], [dat, 'DAT'], [junk, 'unknown architecture']] as const) {
      const err = await rejection(loadUpscaler(path));
      expect(err.code).toBe('unsupported_upscaler');
      expect(err.message).toContain(looks);
    }
  });

  it('refuses an RRDBNet with a growth width other than 32 (spandrel hard-codes 32)', async () => {
    const old = await specOf(dir('rrdb_x4_old.safetensors'));
    const out: Record<string, TensorData> = {};
    for (const [k, v] of old.tensors) {
      const shape = [...old.spec.tensors.get(k)!.shape];
      if (k === 'model.1.sub.0.RDB1.conv1.0.weight') out[k] = { dtype: 'F32', shape: [16, shape[1]!, 3, 3], data: new Float32Array(16 * shape[1]! * 9) };
      else out[k] = { dtype: 'F32', shape, data: v };
    }
    await old.close();
    const path = join(tmp, 'gc16.safetensors');
    await writeSafetensors(path, out);
    const err = await rejection(loadUpscaler(path));
    expect(err.code).toBe('unsupported_upscaler');
    expect(err.message).toContain('16 growth channels');
  });

  it('refuses truncated and missing files with coded errors', async () => {
    for (const file of ['rrdb_x4_new.pth', 'compact_x4.safetensors']) {
      const bytes = readFileSync(dir(file));
      const cut = join(tmp, `cut-${file}`);
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const err = await rejection(loadUpscaler(cut));
      expect(err.code, err.message).toBe('bad_upscaler_file');
      expect(err.message).toContain(cut);
    }
    expect((await rejection(loadUpscaler(join(tmp, 'nope.pth')))).code).toBe('upscaler_not_found');
  });

  it('refuses a .pth whose pickle asks for code, without running it', async () => {
    const path = join(tmp, 'evil.pth');
    const marker = join(tmp, 'ran');
    await writeTorchZip(path, { dict: [['params_ema', { call: ['os', 'system'], args: [`touch ${marker}`] }]] });
    const err = await rejection(loadUpscaler(path));
    expect(err.code).toBe('unsafe_model_file');
    expect(existsSync(marker)).toBe(false);
  });
});

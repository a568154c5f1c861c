// The TAESD decoder graph against a plain-JS reference of taesd.py's Decoder (nested conv loops on a
// 3×4 latent, seeded random weights, 8 channels), the three file layouts (original .safetensors,
// original .pth as A1111 keeps it, diffusers AutoencoderTiny) giving the same output, and the
// coded errors for files that are not a TAESD decoder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../io/safetensors.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import type { PyValue } from '../io/testing/pickle-writer.js';
import { createEngineRuntime, type EngineRuntime } from '../runtime/ort-backend.js';
import { BLOCK_CONVS, TAESD_DECODER_LAYERS } from './architecture.js';
import { randomTaesdTensors, taesdFileKey, writeRandomTaesd } from './random-taesd.js';
import { loadTaesdDecoder, unitPlanarToRaster } from './taesd-decoder.js';
import { readTaesdFile, taesdFamilyOf } from './taesd-file.js';

const C = 8;
const H = 3, W = 4;
let dir: string;
let runtime: EngineRuntime;
const weights = randomTaesdTensors({ channels: C, seed: 7 });

// ---- reference: taesd.py Decoder, written out with loops ----
interface T { c: number; h: number; w: number; d: Float64Array }

function conv3(x: T, key: string, bias: boolean): T {
  const wt = weights.get(`${key}.weight`)!;
  const [co, ci] = wt.shape as [number, number];
  expect(ci).toBe(x.c);
  const b = bias ? weights.get(`${key}.bias`)!.data : null;
  const out: T = { c: co, h: x.h, w: x.w, d: new Float64Array(co * x.h * x.w) };
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < x.h; y++) {
      for (let xx = 0; xx < x.w; xx++) {
        let acc = b ? b[o]! : 0;
        for (let i = 0; i < ci; i++) {
          for (let ky = 0; ky < 3; ky++) {
            const sy = y + ky - 1;
            if (sy < 0 || sy >= x.h) continue;
            for (let kx = 0; kx < 3; kx++) {
              const sx = xx + kx - 1;
              if (sx < 0 || sx >= x.w) continue;
              acc += wt.data[((o * ci + i) * 3 + ky) * 3 + kx]! * x.d[(i * x.h + sy) * x.w + sx]!;
            }
          }
        }
        out.d[(o * x.h + y) * x.w + xx] = acc;
      }
    }
  }
  return out;
}

const map = (x: T, f: (v: number) => number): T => ({ ...x, d: x.d.map(f) });
const relu = (x: T) => map(x, (v) => Math.max(0, v));

function up2(x: T): T {
  const out: T = { c: x.c, h: x.h * 2, w: x.w * 2, d: new Float64Array(x.c * x.h * x.w * 4) };
  for (let c = 0; c < x.c; c++) for (let y = 0; y < out.h; y++) for (let xx = 0; xx < out.w; xx++) out.d[(c * out.h + y) * out.w + xx] = x.d[(c * x.h + (y >> 1)) * x.w + (xx >> 1)]!;
  return out;
}

function referenceDecode(latent: Float32Array): Float64Array {
  let x: T = { c: 4, h: H, w: W, d: Float64Array.from(latent) };
  x = map(x, (v) => Math.tanh(v / 3) * 3); // 0 Clamp
  x = relu(conv3(x, '1', true)); // 1 conv, 2 ReLU
  let idx = 3;
  const block = (v: T, k: number): T => {
    const a = relu(conv3(v, `${k}.conv.0`, true));
    const b = relu(conv3(a, `${k}.conv.2`, true));
    const c = conv3(b, `${k}.conv.4`, true);
    return relu({ ...c, d: c.d.map((q, i) => q + v.d[i]!) });
  };
  for (let stage = 0; stage < 3; stage++) {
    for (let k = 0; k < 3; k++) x = block(x, idx++);
    x = up2(x); // Upsample
    idx++;
    x = conv3(x, String(idx++), false);
  }
  x = block(x, idx++);
  x = conv3(x, String(idx), true);
  expect([x.c, x.h, x.w]).toEqual([3, 8 * H, 8 * W]);
  return x.d;
}

const latent = Float32Array.from({ length: 4 * H * W }, (_, i) => Math.sin(i * 1.7) * 4); // beyond ±3: the Clamp matters

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'easel-taesd-'));
  runtime = await createEngineRuntime({ device: 'cpu', precision: 'fp32' });
  await writeRandomTaesd(join(dir, 'taesd_decoder.safetensors'), 'original', { channels: C, seed: 7 });
  await writeRandomTaesd(join(dir, 'taesd.safetensors'), 'diffusers', { channels: C, seed: 7 });
  // The original .pth as A1111 keeps it in models/VAE-approx: torch.save(decoder.state_dict()).
  const storages: Record<string, Uint8Array> = {};
  const entries: [PyValue, PyValue][] = [];
  let n = 0;
  for (const [key, t] of weights) {
    const s = String(n++);
    storages[s] = new Uint8Array(t.data.buffer.slice(0));
    entries.push([key, { tensor: { storage: s, dtype: 'F32', storageNumel: t.data.length, shape: t.shape } }]);
  }
  await writeTorchZip(join(dir, 'taesd_decoder.pth'), { dict: entries, ordered: true }, { storages });
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TAESD decoder graph', () => {
  it('has the layer list of taesd.py Decoder', () => {
    expect(TAESD_DECODER_LAYERS.map((l) => l.kind).join(' ')).toBe(
      'clamp conv relu block block block upsample conv block block block upsample conv block block block upsample conv block conv',
    );
    expect(TAESD_DECODER_LAYERS.at(-1)).toEqual({ kind: 'conv', index: 19, bias: true, out: 'rgb' });
    expect(BLOCK_CONVS).toEqual([0, 2, 4]);
  });

  it('matches a plain-JS reference of the decoder on a 3×4 latent', async () => {
    const d = await loadTaesdDecoder(join(dir, 'taesd_decoder.safetensors'), { runtime });
    const got = await d.decode(latent, H, W);
    const want = referenceDecode(latent);
    expect(got.length).toBe(want.length);
    let maxErr = 0, maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    }
    expect(maxAbs).toBeGreaterThan(0.05); // the check is not vacuous: the output is far from zero
    expect(maxErr).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    await d.dispose();
  });

  it('loads the original .safetensors, the original .pth and the diffusers layout to the same output', async () => {
    const outs: Float32Array[] = [];
    for (const [f, layout] of [['taesd_decoder.safetensors', 'original'], ['taesd_decoder.pth', 'original'], ['taesd.safetensors', 'diffusers']] as const) {
      const d = await loadTaesdDecoder(join(dir, f), { runtime });
      expect(d.layout).toBe(layout);
      outs.push(await d.decode(latent, H, W));
      await d.dispose();
    }
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
  });

  it('turns the [0, 1] output into 8-bit pixels as A1111 does (clamp, ×255, truncate)', () => {
    const r = unitPlanarToRaster(Float32Array.of(-0.2, 0.5, 1.3), 1, 1); // planes R, G, B of one pixel
    expect([...r.data]).toEqual([0, 127, 255]);
  });
});

describe('TAESD files', () => {
  it('names the family from the file name', () => {
    expect(taesdFamilyOf('models/vae-approx/taesdxl.safetensors')).toBe('sdxl');
    expect(taesdFamilyOf('taesdxl_decoder.pth')).toBe('sdxl');
    expect(taesdFamilyOf('taesd_decoder.pth')).toBe('sd1');
    expect(taesdFamilyOf('taesd.safetensors')).toBe('sd1');
  });

  it('refuses files that are not a 4-channel TAESD decoder, with coded errors', async () => {
    await expect(readTaesdFile(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'taesd_not_found' });
    // An encoder: its Sequential starts conv(3, 64), Block — there is no `1.weight`.
    const enc = join(dir, 'taesd_encoder.safetensors');
    await writeSafetensors(enc, { '0.weight': { dtype: 'F32', shape: [C, 3, 3, 3], data: new Float32Array(C * 27) }, '1.conv.0.weight': { dtype: 'F32', shape: [C, C, 3, 3], data: new Float32Array(C * C * 9) } });
    await expect(readTaesdFile(enc)).rejects.toMatchObject({ code: 'bad_taesd_file', message: expect.stringMatching(/encoder/) });
    // TAEF1 / TAESD3 decoders take 16 latent channels.
    const f1 = join(dir, 'taef1_decoder.safetensors');
    await writeSafetensors(f1, { '1.weight': { dtype: 'F32', shape: [C, 16, 3, 3], data: new Float32Array(C * 16 * 9) } });
    await expect(readTaesdFile(f1)).rejects.toMatchObject({ code: 'bad_taesd_file', message: expect.stringMatching(/16 latent channels/) });
    // One tensor short.
    const short = join(dir, 'taesd_short.safetensors');
    const t = Object.fromEntries([...weights].filter(([k]) => k !== '18.conv.2.bias').map(([k, v]) => [taesdFileKey(k, 'original'), { dtype: 'F32' as const, shape: v.shape, data: v.data }]));
    await writeSafetensors(short, t);
    await expect(readTaesdFile(short)).rejects.toMatchObject({ code: 'bad_taesd_file', message: expect.stringMatching(/18\.conv\.2\.bias/) });
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a model');
    await expect(readTaesdFile(junk)).rejects.toMatchObject({ code: 'bad_taesd_file' });
  });

  it('refuses a latent of the wrong size', async () => {
    const d = await loadTaesdDecoder(join(dir, 'taesd.safetensors'), { runtime });
    await expect(d.decode(new Float32Array(5), H, W)).rejects.toMatchObject({ code: 'invalid_params' });
    await d.dispose();
  });
});

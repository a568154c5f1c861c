import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../io/safetensors.js';
import type { PyTensor } from '../io/testing/pickle-writer.js';
import { writeTorchZip } from '../io/testing/zip-writer.js';
import { readEmbeddingFile } from './embedding-file.js';

let dir: string;
const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const tensor = (storage: string, shape: number[], parameter = false): { tensor: PyTensor } => ({
  tensor: { storage, dtype: 'F32', storageNumel: shape.reduce((a, b) => a * b, 1), shape, parameter },
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'easel-emb-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readEmbeddingFile', () => {
  it('reads an A1111 .pt (string_to_param with one term)', async () => {
    const path = join(dir, 'a1111.pt');
    await writeTorchZip(path, {
      dict: [
        ['string_to_token', { dict: [['*', 265]] }],
        ['string_to_param', { dict: [['*', tensor('0', [2, 3], true)]] }],
        ['name', 'a1111'],
        ['step', 500],
      ],
    }, { storages: { '0': f32([1, 2, 3, 4, 5, 6]) } });
    const e = await readEmbeddingFile(path);
    expect([e.count, e.dim, [...e.vectors]]).toEqual([2, 3, [1, 2, 3, 4, 5, 6]]);
  });

  it('reads a diffusers concept .bin (one 1-D tensor) as one vector', async () => {
    const path = join(dir, 'concept.bin');
    await writeTorchZip(path, { dict: [['<cat-toy>', tensor('0', [4])]] }, { storages: { '0': f32([1, 2, 3, 4]) } });
    const e = await readEmbeddingFile(path);
    expect([e.count, e.dim]).toEqual([1, 4]);
  });

  it('refuses files with several terms and non-embeddings; reads both parts of SDXL files', async () => {
    const multi = join(dir, 'multi.pt');
    await writeTorchZip(multi, { dict: [['string_to_param', { dict: [['*', tensor('0', [1, 2])], ['+', tensor('1', [1, 2])]] }]] }, { storages: { '0': f32([1, 2]), '1': f32([3, 4]) } });
    await expect(readEmbeddingFile(multi)).rejects.toMatchObject({ code: 'bad_embedding_file' });
    const sdxl = join(dir, 'sdxl.safetensors');
    await writeSafetensors(sdxl, { clip_l: { dtype: 'F32', shape: [1, 768], data: new Float32Array(768) }, clip_g: { dtype: 'F32', shape: [1, 1280], data: new Float32Array(1280) } });
    const xl = await readEmbeddingFile(sdxl);
    expect([xl.count, xl.dim, xl.clipG?.dim]).toEqual([1, 768, 1280]);
    const two = join(dir, 'two.safetensors');
    await writeSafetensors(two, { a: { dtype: 'F32', shape: [1, 2], data: new Float32Array(2) }, b: { dtype: 'F32', shape: [1, 2], data: new Float32Array(2) } });
    await expect(readEmbeddingFile(two)).rejects.toMatchObject({ code: 'bad_embedding_file' });
  });

  it('reads string_to_param.* from a .safetensors', async () => {
    const path = join(dir, 'stp.safetensors');
    await writeSafetensors(path, { 'string_to_param.*': { dtype: 'F16', shape: [1, 2], data: new Uint16Array([0x3c00, 0x4000]) } });
    const e = await readEmbeddingFile(path);
    expect([...e.vectors]).toEqual([1, 2]);
  });
});

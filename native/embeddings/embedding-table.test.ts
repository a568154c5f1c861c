// Embeddings in prompts: a tiny random embedding file changes the conditioning exactly as putting
// its vectors at the token positions does, and A1111's chunk rules for embedding vectors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../io/safetensors.js';
import { openCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { createEngineRuntime, type EngineRuntime } from '../runtime/ort-backend.js';
import { loadDiffusionModel, type DiffusionModel } from '../runtime/diffusion-model.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { tokenizeLine } from '../text/chunking.js';
import { loadClipTokenizer, type ClipTokenizer } from '../text/clip-tokenizer.js';
import { applyOriginalEmphasis, buildConditioning } from '../text/conditioning.js';
import { seededValues } from '../lora/test/make-lora.js';
import { EmbeddingTable, scanEmbeddings, TOKEN_EMBEDDING_KEY, type LoadedEmbedding } from './embedding-table.js';

let dir: string;
let ckpt: Checkpoint;
let tok: ClipTokenizer;
let runtime: EngineRuntime;
const VEC = seededValues(77, 2 * 32, 0.5); // [2, 32]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'easel-emb-'));
  mkdirSync(join(dir, 'sub'));
  await writeSafetensors(join(dir, 'sub', 'zorbly.safetensors'), { emb_params: { dtype: 'F32', shape: [2, 32], data: VEC } });
  await writeSafetensors(join(dir, 'wide.safetensors'), { emb_params: { dtype: 'F32', shape: [1, 768], data: new Float32Array(768) } });
  writeFileSync(join(dir, 'broken.safetensors'), 'not a safetensors file');
  ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  tok = await loadClipTokenizer(sd1TinyPath('tokenizer'));
  runtime = await createEngineRuntime({ device: 'cpu' });
});
afterAll(async () => {
  await ckpt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanEmbeddings', () => {
  it('loads files by stem from subfolders, skips wrong widths and broken files', async () => {
    const scan = await scanEmbeddings(dir, 32);
    expect(scan.loaded.map((e) => [e.name, e.count, e.dim])).toEqual([['zorbly', 2, 32]]);
    expect(scan.skipped.map((s) => s.path).sort()).toEqual([join(dir, 'broken.safetensors'), join(dir, 'wide.safetensors')]);
  });
});

describe('embedding in a prompt', () => {
  let withTable: DiffusionModel;
  let reference: DiffusionModel;
  let table: EmbeddingTable;
  // Two ordinary vocabulary rows overwritten with the embedding's vectors = what A1111 splices in.
  const ROW_A = 1000, ROW_B = 1001;

  beforeAll(async () => {
    const scan = await scanEmbeddings(dir, 32);
    table = new EmbeddingTable(scan.loaded, tok, ckpt.shape(TOKEN_EMBEDDING_KEY)![0]);
    withTable = await loadDiffusionModel(ckpt, { runtime });
    withTable.useWeights('textEncoder', { id: `ti-${table.id}`, source: table.extend(ckpt) });
    reference = await loadDiffusionModel(ckpt, {
      runtime,
      weightHook: (key, w) => {
        if (key !== TOKEN_EMBEDDING_KEY) return w;
        const out = w.slice();
        out.set(VEC.subarray(0, 32), ROW_A * 32);
        out.set(VEC.subarray(32, 64), ROW_B * 32);
        return out;
      },
    });
  });
  afterAll(async () => {
    await withTable?.dispose();
    await reference?.dispose();
  });

  it('matches encoding the prompt with the vectors at the name position', async () => {
    const used = new Map<string, LoadedEmbedding>();
    const prompt = 'a (zorbly:1.3) cat';
    const got = await buildConditioning(prompt, {
      tokenizer: tok,
      embeddings: table.lookup(used),
      encodeChunk: (ids, b, o) => withTable.textEncoder.encode(ids, b, o),
    });
    expect([...used.keys()]).toEqual(['zorbly']);
    // Reference: the same chunk with the two rows in place of the name's tokens, same multipliers.
    const [a, cat] = [tok.encode('a'), tok.encode('cat')];
    const line = tokenizeLine(prompt, tok, { embeddings: table.lookup(new Map()) });
    expect(line.chunks[0].tokens.slice(0, 5)).toEqual([tok.bosId, ...a, 49408, 49409, ...cat]);
    const ids = Int32Array.from(line.chunks[0].tokens.map((t) => (t === 49408 ? ROW_A : t === 49409 ? ROW_B : t)));
    const z = await reference.textEncoder.encode(ids, 1);
    const want = applyOriginalEmphasis(z, line.chunks[0].multipliers, { batch: 1, tokens: 77, channels: 32 });
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got.data[i]));
    expect(diff).toBeLessThan(1e-5);
    // and the embedding really changed something compared to the plain word
    const plain = await buildConditioning(prompt, { tokenizer: tok, encodeChunk: (i, b, o) => withTable.textEncoder.encode(i, b, o) });
    expect(Math.max(...plain.data.map((v, i) => Math.abs(v - got.data[i])))).toBeGreaterThan(1e-3);
  });

  it('composes with clip skip 2', async () => {
    const deps = (m: DiffusionModel, clipSkip: number) => ({ tokenizer: tok, clipSkip, embeddings: table.lookup(new Map()), encodeChunk: m.textEncoder.encode.bind(m.textEncoder) });
    const one = await buildConditioning('zorbly', deps(withTable, 1));
    const two = await buildConditioning('zorbly', deps(withTable, 2));
    const line = tokenizeLine('zorbly', tok, { embeddings: table.lookup(new Map()) });
    const ids = Int32Array.from(line.chunks[0].tokens.map((t) => (t === 49408 ? ROW_A : t === 49409 ? ROW_B : t)));
    const ref2 = await reference.textEncoder.encode(ids, 1, { clipSkip: 2 });
    expect(Math.max(...ref2.map((v, i) => Math.abs(v - two.data[i])))).toBeLessThan(1e-5);
    expect(Math.max(...one.data.map((v, i) => Math.abs(v - two.data[i])))).toBeGreaterThan(1e-3);
  });
});

describe('chunking with embeddings (A1111 tokenize_line)', () => {
  const fake = (count: number): EmbeddingTable => {
    const e: LoadedEmbedding = { name: 'zorbly', path: 'x', version: 'x', vectors: new Float32Array(count * 32), count, dim: 32 };
    return new EmbeddingTable([e], tok, 49408);
  };

  it('an embedding that does not fit the current chunk starts the next one; vectors count as tokens', () => {
    const words = new Array(74).fill('cat').join(' ');
    const line = tokenizeLine(`${words} zorbly`, tok, { embeddings: fake(3).lookup(new Map()) });
    expect(line.chunks).toHaveLength(2);
    expect(line.chunks[0].tokens.slice(74, 77)).toEqual([tok.encode('cat')[0], tok.eosId, tok.eosId]);
    expect(line.chunks[1].tokens.slice(0, 5)).toEqual([tok.bosId, 49408, 49409, 49410, tok.eosId]);
    expect(line.tokenCount).toBe(75 + 3);
  });

  it('one that fits exactly stays', () => {
    const words = new Array(72).fill('cat').join(' ');
    const line = tokenizeLine(`${words} zorbly`, tok, { embeddings: fake(3).lookup(new Map()) });
    expect(line.chunks).toHaveLength(1);
    expect(line.tokenCount).toBe(75);
    expect(line.chunks[0].tokens.slice(73, 77)).toEqual([49408, 49409, 49410, tok.eosId]);
  });

  it('names are matched on tokens, case-insensitively, and not inside other words', () => {
    const used = new Map<string, LoadedEmbedding>();
    const t = fake(1);
    expect(tokenizeLine('ZORBLY', tok, { embeddings: t.lookup(used) }).chunks[0].tokens[1]).toBe(49408);
    expect(tokenizeLine('zorblyish', tok, { embeddings: t.lookup(new Map()) }).chunks[0].tokens).not.toContain(49408);
    expect([...used.keys()]).toEqual(['zorbly']);
  });
});

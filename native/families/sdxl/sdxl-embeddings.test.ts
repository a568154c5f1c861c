// SDXL textual inversion: an embedding file with `clip_l` and `clip_g` puts each part into its own
// encoder's token table. An embedding whose vectors are the token rows of "cat" in both tables must
// condition exactly like the word "cat"; embeddings of the other family are refused when named.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDXL_TOKEN_EMBEDDING_KEYS } from '../../embeddings/embedding-table.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { openCheckpoint } from '../../models/checkpoint.js';
import { maxAbsDiff } from '../../models/graph-test-utils.js';
import { loadEngine, type Engine } from '../../pipelines/engine.js';
import { sd1TinyPath, sdxlTinyPath } from '../../testing/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-sdxl-ti-'));
const embeddings = join(dir, 'embeddings');
let engine: Engine;

beforeAll(async () => {
  mkdirSync(embeddings);
  engine = await loadEngine(sdxlTinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache') });
  const cat = engine.tokenizer.encode('cat')[0]!;
  const ckpt = await openCheckpoint(sdxlTinyPath('model.safetensors'));
  try {
    const row = async (key: string, width: number) => (await ckpt.readFloat32(key)).slice(cat * width, (cat + 1) * width);
    await writeSafetensors(join(embeddings, 'kittyxl.safetensors'), {
      clip_l: { dtype: 'F32', shape: [1, 32], data: await row(SDXL_TOKEN_EMBEDDING_KEYS.clipL, 32) },
      clip_g: { dtype: 'F32', shape: [1, 48], data: await row(SDXL_TOKEN_EMBEDDING_KEYS.clipG, 48) },
    });
  } finally {
    await ckpt.close();
  }
  await writeSafetensors(join(embeddings, 'oldstyle.safetensors'), { emb_params: { dtype: 'F32', shape: [1, 768], data: new Float32Array(768).fill(0.1) } });
});

afterAll(async () => {
  await engine?.dispose();
});

describe('textual inversion on SDXL', () => {
  it('clip_l and clip_g land in their own encoders: the "cat" embedding conditions like "cat"', async () => {
    const net = await engine.networks.apply({ loras: [], embeddingsDir: embeddings });
    const ctx = { clipSkip: 1, width: 64, height: 64, embeddings: net.embeddings };
    const withTi = (await engine.conditioner.learned(['a photo of a kittyxl, (garden:1.1)'], 1, ctx))[0]![0]!.cond;
    const plain = (await engine.conditioner.learned(['a photo of a cat, (garden:1.1)'], 1, ctx))[0]![0]!.cond;
    expect([...net.usedEmbeddings.keys()]).toEqual(['kittyxl']);
    expect(maxAbsDiff(withTi.data, plain.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(withTi.vector!, plain.vector!)).toBeLessThan(1e-5);
    expect(net.skippedEmbeddings.map((s) => s.reason)).toEqual(['an SD1 embedding cannot be used with SDXL models']);
  });

  it('an SD1 embedding named in a prompt is refused on SDXL, and the SDXL one on SD1', async () => {
    const net = await engine.networks.apply({ loras: [], embeddingsDir: embeddings });
    const ctx = { clipSkip: 1, width: 64, height: 64, embeddings: net.embeddings };
    await expect(engine.conditioner.learned(['a oldstyle house'], 1, ctx)).rejects.toMatchObject({ code: 'model_family_mismatch' });
    const sd1 = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer'), loraCacheDir: join(dir, 'cache1') });
    try {
      const n1 = await sd1.networks.apply({ loras: [], embeddingsDir: embeddings });
      await expect(sd1.conditioner.learned(['a kittyxl'], 1, { clipSkip: 1, width: 64, height: 64, embeddings: n1.embeddings })).rejects.toMatchObject({ code: 'model_family_mismatch' });
    } finally {
      await sd1.dispose();
    }
  });
});

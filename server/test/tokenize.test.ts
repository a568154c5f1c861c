// POST /api/tokenize counts tokens as A1111 does (the fixture's conditioning cases give the truth),
// answers not_implemented until a tokenizer is installed, and needs the token.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../native/io/safetensors.js';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { startTestServer, type TestServer } from './helpers.js';

const cases = (JSON.parse(readFileSync(sd1TinyPath('cases.json'), 'utf8')) as {
  conditioning: Record<string, { prompt: string; token_count: number; chunks: unknown[] }>;
}).conditioning;

describe('POST /api/tokenize', () => {
  let server: TestServer;
  const post = (body: unknown, token = server.token) =>
    fetch(`${server.url}/api/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('says not_implemented while no tokenizer is installed, then counts once one is', async () => {
    const before = await post({ prompt: 'a cat' });
    expect(before.status).toBe(501);
    expect(((await before.json()) as { error: { code: string } }).error.code).toBe('not_implemented');

    const dir = join(server.config.modelsDir, 'tokenizers', 'clip-vit-large-patch14');
    mkdirSync(dir, { recursive: true });
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(dir, f));
    for (const c of Object.values(cases)) {
      const res = await post({ prompt: c.prompt });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ tokens: c.token_count, chunks: c.chunks.length });
    }
    const lora = (await (await post({ prompt: 'a cat <lora:detail:0.8>' })).json()) as { tokens: number };
    expect(lora.tokens).toBe(((await (await post({ prompt: 'a cat' })).json()) as { tokens: number }).tokens);
  });

  it('counts a textual-inversion name in the embeddings folder as its vectors', async () => {
    const dir = join(server.config.modelsDir, 'embeddings');
    mkdirSync(dir, { recursive: true });
    const count = async (prompt: string) => ((await (await post({ prompt })).json()) as { tokens: number }).tokens;
    const plain = await count('a zqxstyle cat');
    // Three vectors of SD1's width: the name's own tokens are replaced by three slots.
    const vectors = new Float32Array(3 * 768).fill(0.01);
    await writeSafetensors(join(dir, 'zqxstyle.safetensors'), { emb_params: { dtype: 'F32', shape: [3, 768], data: vectors } });
    const nameTokens = plain - (await count('a cat'));
    expect(nameTokens).toBeGreaterThan(0);
    expect(await count('a zqxstyle cat')).toBe(plain - nameTokens + 3);
  });

  it('validates the body and requires the token', async () => {
    const bad = await post({ prompt: 5 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('prompt');
    expect((await post({ prompt: 'x' }, 'wrong')).status).toBe(401);
  });
});

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../native/io/safetensors.js';
import { hashModelFile, type FileHashes } from '../../native/models/file-hashes.js';
import { listModels, ModelRegistry } from './registry.js';

const tiny = { dtype: 'F32' as const, shape: [4], data: new Float32Array([1, 2, 3, 4]) };

describe('ModelRegistry', () => {
  let root: string;
  let modelsDir: string;
  let cachePath: string;
  let calls: string[];
  let registries: ModelRegistry[];
  const counting = (path: string): Promise<FileHashes> => {
    calls.push(path);
    return hashModelFile(path);
  };
  const make = (extra: Partial<ConstructorParameters<typeof ModelRegistry>[0]> = {}): ModelRegistry => {
    const r = new ModelRegistry({ modelsDir, cachePath, hashFile: counting, debounceMs: 50, ...extra });
    registries.push(r);
    return r;
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'easel-reg-'));
    modelsDir = join(root, 'models');
    cachePath = join(root, 'data', 'model-cache.json');
    calls = [];
    registries = [];
    mkdirSync(join(modelsDir, 'loras', 'style'), { recursive: true });
    mkdirSync(join(modelsDir, 'checkpoints'), { recursive: true });
    await writeSafetensors(join(modelsDir, 'loras', 'style', 'ink.safetensors'), { 'lora_te_x.lora_up.weight': tiny }, { ss_output_name: 'ink', ss_tag_frequency: '{"1_ink":{"ink":3}}' });
    await writeSafetensors(join(modelsDir, 'checkpoints', 'tiny.safetensors'), { 'model.diffusion_model.a': tiny, 'cond_stage_model.transformer.text_model.b': tiny });
    writeFileSync(join(modelsDir, 'checkpoints', '.tiny2.safetensors.part'), 'in progress');
    writeFileSync(join(modelsDir, 'checkpoints', 'readme.txt'), 'not a model');
  });
  afterEach(async () => {
    for (const r of registries) await r.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers at once with hashes pending, then fills them in and reports the change', async () => {
    let changes = 0;
    const r = make({ onChange: () => changes++ });
    const first = await r.list();
    expect(first.map((m) => [m.type, m.name, m.hash_pending, m.sha256])).toEqual([
      ['checkpoint', 'tiny.safetensors', true, null],
      ['lora', 'style/ink.safetensors', true, null],
    ]);
    expect(first[0]).toMatchObject({ family: 'sd1' });
    expect(first[1]).toMatchObject({ family: 'sd1', lora_hash: null, metadata: { output_name: 'ink', trigger_words: ['ink'] } });
    await r.idle();
    const second = await r.list();
    const want = await hashModelFile(join(modelsDir, 'loras', 'style', 'ink.safetensors'));
    expect(second[1]).toMatchObject({ sha256: want.sha256, short_hash: want.sha256.slice(0, 10), lora_hash: want.addnetSha256!.slice(0, 12) });
    expect(second[1]!.hash_pending).toBeUndefined();
    expect(second[0]!.lora_hash).toBeUndefined();
    await new Promise((res) => setTimeout(res, 150));
    expect(changes).toBeGreaterThan(0);
  });

  it('never rehashes an unchanged file, also after a restart, and rehashes a changed one', async () => {
    const r = make();
    await r.list();
    await r.idle();
    expect(calls).toHaveLength(2);
    await r.list();
    await r.idle();
    expect(calls).toHaveLength(2);
    await r.close();

    const again = make();
    const listed = await again.list();
    expect(listed.every((m) => typeof m.sha256 === 'string')).toBe(true);
    expect(calls).toHaveLength(2);

    const ck = join(modelsDir, 'checkpoints', 'tiny.safetensors');
    await writeSafetensors(ck, { 'model.diffusion_model.a': { ...tiny, data: new Float32Array([9, 9, 9, 9]) }, 'cond_stage_model.transformer.text_model.b': tiny });
    utimesSync(ck, new Date(), new Date(Date.now() + 5000));
    await again.list();
    await again.idle();
    expect(calls.slice(2)).toEqual([ck]);
  });

  it('does not wait for a slow hash', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const r = make({ hashFile: async (p) => (await gate, hashModelFile(p)) });
    const listed = await r.list('checkpoint');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.hash_pending).toBe(true);
    release();
    await r.idle();
    expect((await r.list('checkpoint'))[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('notices new files through the watcher and through rescan()', async () => {
    let changes = 0;
    const r = make({ onChange: () => changes++ });
    await r.start();
    await r.idle();
    await new Promise((res) => setTimeout(res, 300));
    changes = 0;
    writeFileSync(join(modelsDir, 'loras', 'new.safetensors'), 'x');
    const deadline = Date.now() + 5000;
    while (changes === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
    expect(changes).toBeGreaterThan(0);
    expect((await r.list('lora')).map((m) => m.name)).toContain('new.safetensors');
    // Without a watcher (so nothing races the calls), rescan() says whether the set changed.
    const plain = make();
    await plain.list();
    expect(await plain.rescan()).toBe(false);
    writeFileSync(join(modelsDir, 'loras', 'other.safetensors'), 'y');
    expect(await plain.rescan()).toBe(true);
  });

  it('listModels still lists plain entries', async () => {
    expect(await listModels(modelsDir, 'lora')).toEqual([{ name: 'style/ink.safetensors', type: 'lora', size_bytes: expect.any(Number) }]);
  });
});

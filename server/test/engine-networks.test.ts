// GenerationService end to end with extra networks: a temp MODELS_DIR holding the sd1-tiny
// checkpoint, the fixture's LoRA, a random embedding and an override VAE. Checks what reaches the
// infotext (Lora hashes, TI hashes, VAE, VAE hash in A1111's order), that tags and the `loras`
// parameter are the same thing, that a missing LoRA fails before anything runs, and that the merge
// cache is hit when a set comes back.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors, type TensorData } from '../../native/io/safetensors.js';
import { openCheckpoint } from '../../native/models/checkpoint.js';
import { sd1TinyPath } from '../../native/testing/fixtures.js';
import { GenerationService } from '../../native/generation-service.js';
import type { RunHooks, RunOutput } from '../../native/worker-protocol.js';
import { formatInfotext } from '../infotext/index.js';
import { toInfotextParams } from '../jobs/result-infotext.js';
import type { Job } from '../jobs/job.js';
import { seededValues } from '../../native/lora/test/make-lora.js';
import { PickleWriter } from '../../native/io/testing/pickle-writer.js';
import { writeTorchZip } from '../../native/io/testing/zip-writer.js';

let root: string;
let service: GenerationService;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** kohya addnet hash computed here from the file bytes: sha256 of everything after the header. */
function addnetHash(path: string): string {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return sha256(bytes.subarray(8 + n));
}

const hooks = (): RunHooks => ({ signal: new AbortController().signal, previewEvery: 0, onProgress: () => undefined, onPreview: () => undefined });

const params = (extra: Record<string, unknown>): Record<string, unknown> => ({
  task: 'txt2img', prompt: 'a cat', negative_prompt: '', width: 64, height: 64, steps: 2, cfg_scale: 7,
  sampler: 'euler', scheduler: 'automatic', seed: 3, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1, model: 'tiny.safetensors', ...extra,
});

function infotextOf(out: RunOutput, p: Record<string, unknown>): string {
  const job = { id: 'j1', kind: 'generate', params: p } as unknown as Job;
  return formatInfotext(toInfotextParams(job, out.images[0], out.info));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'easel-networks-'));
  const models = join(root, 'models');
  for (const d of ['checkpoints', 'loras/sub', 'embeddings', 'vae', 'tokenizers/clip-vit-large-patch14']) mkdirSync(join(models, d), { recursive: true });
  symlinkSync(sd1TinyPath('model.safetensors'), join(models, 'checkpoints', 'tiny.safetensors'));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(sd1TinyPath(join('tokenizer', f)), join(models, 'tokenizers', 'clip-vit-large-patch14', f));
  copyFileSync(sd1TinyPath('lora.safetensors'), join(models, 'loras', 'sub', 'fixture_lora.safetensors'));
  await writeSafetensors(join(models, 'embeddings', 'zorbly.safetensors'), { emb_params: { dtype: 'F32', shape: [2, 32], data: seededValues(5, 64, 0.5) } });
  const ckpt = await openCheckpoint(sd1TinyPath('model.safetensors'));
  const vae: Record<string, TensorData> = {};
  for (const k of ckpt.keys().filter((k) => k.startsWith('first_stage_model.'))) {
    const data = await ckpt.readFloat32(k);
    if (k.endsWith('decoder.conv_out.bias')) data[1] += 0.3;
    vae[k.slice('first_stage_model.'.length)] = { dtype: 'F32', shape: ckpt.shape(k)!, data };
  }
  await ckpt.close();
  await writeSafetensors(join(models, 'vae', 'myvae.safetensors'), vae);
  service = new GenerationService({ modelsDir: models, device: 'cpu', loraCacheDir: join(root, 'cache') });
}, 60_000);

afterAll(async () => {
  await service?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('GenerationService with LoRA, embeddings and VAE', () => {
  let plain: RunOutput;
  let tagged: RunOutput;

  it('a LoRA tag changes the image and its addnet hash lands in the infotext', async () => {
    plain = await service.run(params({}), hooks());
    expect(plain.info.lora_hashes).toEqual([]);
    const p = params({ prompt: 'a cat <lora:fixture_lora:0.8>' });
    tagged = await service.run(p, hooks());
    const hash = addnetHash(join(root, 'models', 'loras', 'sub', 'fixture_lora.safetensors')).slice(0, 12);
    expect(tagged.info.lora_hashes).toEqual([{ name: 'fixture_lora', hash }]);
    expect(Buffer.compare(Buffer.from(plain.images[0].png), Buffer.from(tagged.images[0].png))).not.toBe(0);
    const line = infotextOf(tagged, p).split('\n').at(-1)!;
    expect(line).toContain(`Lora hashes: "fixture_lora: ${hash}", Version:`);
    expect(service.loraMerges).toBe(2); // text encoder and UNet
  });

  it('the `loras` parameter is the same as the tag, and the merge cache is hit (no new merge)', async () => {
    const t0 = performance.now();
    const viaParam = await service.run(params({ loras: [{ name: 'fixture_lora', weight: 0.8 }] }), hooks());
    const ms = performance.now() - t0;
    expect(Buffer.compare(Buffer.from(viaParam.images[0].png), Buffer.from(tagged.images[0].png))).toBe(0);
    expect(service.loraMerges).toBe(2);
    // Back to no LoRA and then the set again: still no merge.
    await service.run(params({}), hooks());
    await service.run(params({ prompt: 'a cat <lora:fixture_lora:0.4> <lora:fixture_lora:0.4>' }), hooks());
    expect(service.loraMerges).toBe(2);
    expect(ms).toBeGreaterThan(0);
  });

  it('a missing LoRA fails with lora_not_found naming it', async () => {
    await expect(service.run(params({ prompt: 'a cat <lora:nope:1>' }), hooks())).rejects.toMatchObject({ code: 'lora_not_found', message: expect.stringContaining('"nope"') as string });
    await expect(service.run(params({ loras: [{ name: 'nope2', weight: 1 }] }), hooks())).rejects.toMatchObject({ code: 'lora_not_found' });
  });

  it('an embedding named in the negative prompt is used and listed in TI hashes', async () => {
    const p = params({ prompt: 'a cat <lora:fixture_lora:0.8>', negative_prompt: 'zorbly' });
    const out = await service.run(p, hooks());
    const hash = sha256(readFileSync(join(root, 'models', 'embeddings', 'zorbly.safetensors'))).slice(0, 12);
    expect(out.info.ti_hashes).toEqual([{ name: 'zorbly', hash }]);
    const line = infotextOf(out, p).split('\n').at(-1)!;
    expect(line).toMatch(/Lora hashes: "fixture_lora: [0-9a-f]{12}", TI hashes: "zorbly: [0-9a-f]{12}", Version:/);
    const plainWord = await service.run(params({ prompt: 'a cat <lora:fixture_lora:0.8>', negative_prompt: 'zorblx' }), hooks());
    expect(Buffer.compare(Buffer.from(out.images[0].png), Buffer.from(plainWord.images[0].png))).not.toBe(0);
  });

  it('a VAE override changes the decode and writes VAE hash and VAE; None gives the checkpoint VAE back', async () => {
    const p = params({ vae: 'myvae' });
    const out = await service.run(p, hooks());
    const hash = sha256(readFileSync(join(root, 'models', 'vae', 'myvae.safetensors'))).slice(0, 10);
    expect(out.info).toMatchObject({ vae: 'myvae.safetensors', vae_hash: hash });
    expect(Buffer.compare(Buffer.from(out.images[0].png), Buffer.from(plain.images[0].png))).not.toBe(0);
    expect(infotextOf(out, p)).toContain(`Model: tiny, VAE hash: ${hash}, VAE: myvae.safetensors, RNG: CPU, Version:`);
    const none = await service.run(params({ vae: 'None' }), hooks());
    expect(Buffer.compare(Buffer.from(none.images[0].png), Buffer.from(plain.images[0].png))).toBe(0);
    await expect(service.run(params({ vae: 'missing' }), hooks())).rejects.toMatchObject({ code: 'vae_not_found' });
  });

  it('clip skip composes with LoRA', async () => {
    const a = await service.run(params({ prompt: 'a cat <lora:fixture_lora:0.8>', clip_skip: 2 }), hooks());
    expect(Buffer.compare(Buffer.from(a.images[0].png), Buffer.from(tagged.images[0].png))).not.toBe(0);
  });

  it('a .ckpt checkpoint or .pt VAE whose pickle calls os.system fails with unsafe_model_file, and nothing runs', async () => {
    const models = join(root, 'models');
    const marker = join(root, 'pwned');
    const pickle = new PickleWriter().proto().global('os', 'system').str(`touch ${marker}`).op(0x85, 0x52).stop().toBytes();
    await writeTorchZip(join(models, 'checkpoints', 'evil.ckpt'), null, { pickle, storages: { '0': new Uint8Array(8) } });
    await writeTorchZip(join(models, 'vae', 'evil.pt'), null, { pickle, storages: { '0': new Uint8Array(8) } });
    await expect(service.run(params({ model: 'evil.ckpt' }), hooks())).rejects.toMatchObject({ code: 'unsafe_model_file', message: expect.stringContaining('os.system') });
    await expect(service.run(params({ vae: 'evil.pt' }), hooks())).rejects.toMatchObject({ code: 'unsafe_model_file', message: expect.stringContaining('os.system') });
    expect(existsSync(marker)).toBe(false);
  });
});

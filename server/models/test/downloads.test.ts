// downloadModel against local stand-ins for the download hosts (127.0.0.1, port 0): full and
// resumed transfers, checksum refusal, the Civitai and Hugging Face APIs from fixture JSON,
// cancel, the disk quota, the SSRF guard (also on redirect hops), file naming, no overwrite, and
// the CLIP tokenizer fetched once after an SD1 checkpoint.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../native/io/safetensors.js';
import { PickleWriter } from '../../../native/io/testing/pickle-writer.js';
import { writeTorchZip } from '../../../native/io/testing/zip-writer.js';
import { findTokenizerDir } from '../../../native/text/clip-tokenizer.js';
import { downloadModel, type DownloadOptions, type DownloadProgress } from '../downloads/index.js';
import { FakeHost, fixtureJson } from './fake-hosts.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A valid .safetensors file in memory: F32 tensors of `sizes` elements filled from a seed. */
function safetensorsBytes(tensors: Record<string, number>, metadata?: Record<string, string>, seed = 1): Buffer {
  const specs = Object.entries(tensors).map(([name, n]) => ({ name, dtype: 'F32' as const, shape: [n] }));
  const { bytes } = encodeHeader(specs, metadata);
  const parts = [Buffer.from(bytes)];
  let x = seed;
  for (const [, n] of Object.entries(tensors)) {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      f[i] = x / 2147483648 - 0.5;
    }
    parts.push(Buffer.from(f.buffer));
  }
  return Buffer.concat(parts);
}

const LORA = safetensorsBytes({ 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': 8192, 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight': 8192 }, { ss_output_name: 'detail' });
const SD1 = safetensorsBytes({ 'model.diffusion_model.input_blocks.0.0.weight': 64, 'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight': 64 }, undefined, 7);

describe('downloadModel', () => {
  let host: FakeHost;
  let cdn: FakeHost;
  let modelsDir: string;
  let opts: DownloadOptions;

  beforeAll(async () => {
    host = await FakeHost.start();
    cdn = await FakeHost.start();
  });
  afterAll(async () => {
    await host.close();
    await cdn.close();
  });
  beforeEach(() => {
    modelsDir = mkdtempSync(join(tmpdir(), 'easel-dl-'));
    host.requests.length = 0;
    cdn.requests.length = 0;
    opts = { modelsDir, allowPrivate: true, hfEndpoint: host.base, civitaiEndpoint: host.base, retryDelaysMs: [0, 0], diskMarginBytes: 0 };
  });
  afterEach(() => rmSync(modelsDir, { recursive: true, force: true }));

  const folder = (f: string): string[] => (existsSync(join(modelsDir, f)) ? readdirSync(join(modelsDir, f)) : []);

  it('downloads a file, checks its sha256 and reports progress up to the full size', async () => {
    host.bytes('/files/detail.safetensors', LORA);
    const progress: DownloadProgress[] = [];
    const r = await downloadModel({ source: `${host.base}/files/detail.safetensors`, type: 'lora', sha256: sha256(LORA).toUpperCase() }, { ...opts, onProgress: (p) => progress.push(p) });
    expect(r).toMatchObject({ name: 'detail.safetensors', type: 'lora', size_bytes: LORA.length, sha256: sha256(LORA) });
    expect(r.path).toBe(join(modelsDir, 'loras', 'detail.safetensors'));
    expect(readFileSync(r.path).equals(LORA)).toBe(true);
    expect(folder('loras')).toEqual(['detail.safetensors']);
    expect(progress.at(-1)).toMatchObject({ received_bytes: LORA.length, total_bytes: LORA.length });
    expect(progress.every((p, i) => i === 0 || p.received_bytes >= progress[i - 1]!.received_bytes)).toBe(true);
  });

  it('resumes with a Range request after the connection drops mid-transfer', async () => {
    host.bytes('/files/drop.safetensors', LORA, { dropAfter: { bytes: 20_000, times: 1 } });
    const r = await downloadModel({ source: `${host.base}/files/drop.safetensors`, type: 'lora' }, opts);
    const reqs = host.requestsTo('/files/drop.safetensors');
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.headers.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.headers.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(20_000);
    expect(r.resumed).toBe(true);
    expect(readFileSync(r.path).equals(LORA)).toBe(true);
    expect(r.sha256).toBe(sha256(LORA));
  });

  it('continues a partial file left by an earlier run, and starts over when the server ignores Range', async () => {
    mkdirSync(join(modelsDir, 'loras'), { recursive: true });
    writeFileSync(join(modelsDir, 'loras', '.part1.safetensors.part'), LORA.subarray(0, 10_000));
    host.bytes('/files/part1.safetensors', LORA);
    const a = await downloadModel({ source: `${host.base}/files/part1.safetensors`, type: 'lora', sha256: sha256(LORA) }, opts);
    expect(host.requestsTo('/files/part1.safetensors').map((r) => r.headers.range)).toEqual(['bytes=10000-']);
    expect(readFileSync(a.path).equals(LORA)).toBe(true);

    // A stale partial with wrong bytes and a server without Range support: the 200 answer replaces it.
    writeFileSync(join(modelsDir, 'loras', '.part2.safetensors.part'), Buffer.alloc(10_000, 0xff));
    host.bytes('/files/part2.safetensors', LORA, { noRange: true });
    const b = await downloadModel({ source: `${host.base}/files/part2.safetensors`, type: 'lora', sha256: sha256(LORA) }, opts);
    expect(readFileSync(b.path).equals(LORA)).toBe(true);
    expect(folder('loras').sort()).toEqual(['part1.safetensors', 'part2.safetensors']);
  });

  it('rejects a wrong sha256 and leaves nothing behind', async () => {
    host.bytes('/files/bad.safetensors', LORA);
    await expect(downloadModel({ source: `${host.base}/files/bad.safetensors`, type: 'lora', sha256: 'a'.repeat(64) }, opts)).rejects.toMatchObject({ code: 'checksum_mismatch' });
    expect(folder('loras')).toEqual([]);
  });

  it('refuses a file that claims to be .safetensors but does not parse', async () => {
    host.bytes('/files/fake.safetensors', Buffer.from('<html>login required</html>'));
    await expect(downloadModel({ source: `${host.base}/files/fake.safetensors`, type: 'checkpoint' }, opts)).rejects.toMatchObject({ code: 'bad_model_file' });
    expect(folder('checkpoints')).toEqual([]);
  });

  it('keeps a .ckpt whose pickle holds only tensors, and refuses and deletes one whose pickle calls os.system', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'easel-ckpt-'));
    try {
      const good = join(tmp, 'good.ckpt');
      const sd = { dtype: 'F32' as const, shape: [2], storage: '0', storageNumel: 2 };
      await writeTorchZip(good, { dict: [['state_dict', { dict: [['model.diffusion_model.input_blocks.0.0.weight', { tensor: sd }], ['cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', { tensor: sd }]] }]] }, { storages: { '0': new Uint8Array(new Float32Array([1, 2]).buffer) } });
      host.bytes('/files/good.ckpt', readFileSync(good));
      const kept = await downloadModel({ source: `${host.base}/files/good.ckpt`, type: 'checkpoint' }, { ...opts, fetchTokenizer: false });
      expect(kept.name).toBe('good.ckpt');

      const marker = join(tmp, 'pwned');
      const evil = join(tmp, 'evil.ckpt');
      const pickle = new PickleWriter().proto().global('os', 'system').str(`touch ${marker}`).op(0x85, 0x52).stop().toBytes();
      await writeTorchZip(evil, null, { pickle, storages: { '0': new Uint8Array(8) } });
      host.bytes('/files/evil.ckpt', readFileSync(evil));
      await expect(downloadModel({ source: `${host.base}/files/evil.ckpt`, type: 'checkpoint' }, opts)).rejects.toMatchObject({
        code: 'unsafe_model_file',
        message: expect.stringContaining('os.system'),
      });
      expect(folder('checkpoints')).toEqual(['good.ckpt']);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('takes file, type and SHA256 from the Civitai API, sends the token to Civitai only, and re-running finds the file', async () => {
    const sha = sha256(LORA);
    host.json('/api/v1/model-versions/4567', fixtureJson('civitai-model-version.json', { BASE: host.base, SHA256: sha.toUpperCase(), AUTOV2: sha.slice(0, 10).toUpperCase() }));
    host.redirect('/api/download/models/4567', `${cdn.base}/r2/object-123?X-Signature=abc`);
    cdn.bytes('/r2/object-123', LORA);
    const r = await downloadModel({ source: 'civitai:4567', type: 'checkpoint' }, { ...opts, civitaiToken: 'civ-secret' });
    // The request said checkpoint; Civitai says LORA, and that decides the folder.
    expect(r).toMatchObject({ type: 'lora', name: 'tiny_detail_v1.safetensors', sha256: sha });
    expect(existsSync(join(modelsDir, 'loras', 'tiny_detail_v1.safetensors'))).toBe(true);
    expect(host.requestsTo('/api/v1/model-versions/4567')[0]!.headers.authorization).toBe('Bearer civ-secret');
    expect(host.requestsTo('/api/download/models/4567')[0]!.headers.authorization).toBe('Bearer civ-secret');
    expect(cdn.requestsTo('/r2/object-123')[0]!.headers.authorization).toBeUndefined();

    // A model page URL (latest version through /api/v1/models/<id>) resolves to the same file: already there.
    host.json('/api/v1/models/1234', fixtureJson('civitai-model.json', { BASE: host.base, SHA256: sha }));
    const again = await downloadModel({ source: 'https://civitai.com/models/1234/tiny-detail-tweaker', type: 'lora' }, opts);
    expect(again).toMatchObject({ existing: true, path: r.path });
    expect(cdn.requestsTo('/r2/object-123')).toHaveLength(1);
  });

  it('refuses a Civitai file whose bytes do not match the API SHA256', async () => {
    host.json('/api/v1/model-versions/4567', fixtureJson('civitai-model-version.json', { BASE: host.base, SHA256: 'B'.repeat(64), AUTOV2: 'B'.repeat(10) }));
    host.redirect('/api/download/models/4567', `${cdn.base}/r2/object-123`);
    cdn.bytes('/r2/object-123', LORA);
    await expect(downloadModel({ source: 'civitai:4567', type: 'lora' }, opts)).rejects.toMatchObject({ code: 'checksum_mismatch' });
    expect(folder('loras')).toEqual([]);
  });

  it('downloads hf:owner/repo/path@rev with the token, the paths-info sha256, and no token to the CDN', async () => {
    const sha = sha256(LORA);
    host.json('/api/models/someone/tiny-repo/paths-info/v2', fixtureJson('hf-paths-info.json', { SHA256: sha, SIZE: LORA.length, PATH: 'loras/detail v2.safetensors' }), 'POST');
    host.redirect('/someone/tiny-repo/resolve/v2/loras/detail%20v2.safetensors', `${cdn.base}/lfs/abc`);
    cdn.bytes('/lfs/abc', LORA);
    const r = await downloadModel({ source: 'hf:someone/tiny-repo/loras/detail v2.safetensors@v2', type: 'lora' }, { ...opts, hfToken: 'hf_secret' });
    expect(r).toMatchObject({ name: 'detail v2.safetensors', sha256: sha });
    const info = host.requestsTo('/api/models/someone/tiny-repo/paths-info/v2')[0]!;
    expect(new URLSearchParams(info.body).get('paths')).toBe('loras/detail v2.safetensors');
    expect(info.headers.authorization).toBe('Bearer hf_secret');
    expect(host.requestsTo('/someone/tiny-repo/resolve/v2/loras/detail%20v2.safetensors')[0]!.headers.authorization).toBe('Bearer hf_secret');
    expect(cdn.requestsTo('/lfs/abc')[0]!.headers.authorization).toBeUndefined();

    // Same repo, the API says another sha256: refused.
    host.json('/api/models/someone/tiny-repo/paths-info/main', fixtureJson('hf-paths-info.json', { SHA256: 'c'.repeat(64), SIZE: LORA.length, PATH: 'other.safetensors' }), 'POST');
    host.redirect('/someone/tiny-repo/resolve/main/other.safetensors', `${cdn.base}/lfs/abc`);
    await expect(downloadModel({ source: 'hf:someone/tiny-repo/other.safetensors', type: 'lora' }, opts)).rejects.toMatchObject({ code: 'checksum_mismatch' });
  });

  it('uses x-linked-etag as the sha256 when the Hugging Face API does not answer', async () => {
    host.redirect('/someone/etag-repo/resolve/main/e.safetensors', `${cdn.base}/lfs/e`, { 'x-linked-etag': `"${'d'.repeat(64)}"` });
    cdn.bytes('/lfs/e', LORA);
    await expect(downloadModel({ source: 'hf:someone/etag-repo/e.safetensors', type: 'lora' }, opts)).rejects.toMatchObject({ code: 'checksum_mismatch' });
    host.redirect('/someone/etag-repo/resolve/main/e.safetensors', `${cdn.base}/lfs/e`, { 'x-linked-etag': `"${sha256(LORA)}"` });
    await expect(downloadModel({ source: 'hf:someone/etag-repo/e.safetensors', type: 'lora' }, opts)).resolves.toMatchObject({ sha256: sha256(LORA) });
  });

  it('cancels a running transfer and deletes its partial file', async () => {
    host.bytes('/files/slow.safetensors', LORA, { trickle: { chunk: 2048, delayMs: 30 } });
    const ac = new AbortController();
    const run = downloadModel(
      { source: `${host.base}/files/slow.safetensors`, type: 'lora' },
      { ...opts, signal: ac.signal, onProgress: (p) => p.received_bytes > 0 && ac.abort() },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(folder('loras')).toEqual([]);
  });

  it('refuses a download larger than the quota leaves, before writing anything', async () => {
    host.bytes('/files/big.safetensors', LORA);
    await expect(downloadModel({ source: `${host.base}/files/big.safetensors`, type: 'lora' }, { ...opts, quotaBytes: 4096 })).rejects.toMatchObject({ code: 'insufficient_space' });
    expect(folder('loras')).toEqual([]);
    // Without a Content-Length the limit applies while bytes arrive.
    host.bytes('/files/nolen.safetensors', LORA, { noLength: true });
    await expect(downloadModel({ source: `${host.base}/files/nolen.safetensors`, type: 'lora' }, { ...opts, quotaBytes: 4096 })).rejects.toMatchObject({ code: 'insufficient_space' });
  });

  it('refuses loopback and private addresses unless allowed, on the first hop and on redirects', async () => {
    host.bytes('/files/x.safetensors', LORA);
    const strict = { ...opts, allowPrivate: false };
    const port = new URL(host.base).port;
    for (const source of [`${host.base}/files/x.safetensors`, `http://localhost:${port}/files/x.safetensors`, `http://[::ffff:127.0.0.1]:${port}/files/x.safetensors`]) {
      await expect(downloadModel({ source, type: 'lora', filename: 'x.safetensors' }, strict)).rejects.toMatchObject({ code: 'forbidden_address' });
    }
    expect(host.requestsTo('/files/x.safetensors')).toHaveLength(0);
    // A policy that admits this test host only: a redirect to a private address is still refused.
    host.redirect('/files/redirect.safetensors', 'http://10.1.2.3/x.safetensors');
    await expect(
      downloadModel({ source: `${host.base}/files/redirect.safetensors`, type: 'lora' }, { ...opts, addressPolicy: (a) => a === '127.0.0.1' }),
    ).rejects.toMatchObject({ code: 'forbidden_address' });
    await expect(downloadModel({ source: 'file:///etc/passwd', type: 'lora', filename: 'x.safetensors' }, opts)).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('names files safely (Content-Disposition, no path parts) and never overwrites an existing model', async () => {
    host.route('GET', '/get', (_req, res) => {
      res.writeHead(200, { 'content-disposition': 'attachment; filename="../../.evil.safetensors"', 'content-length': String(LORA.length) });
      res.end(LORA);
    });
    const r = await downloadModel({ source: `${host.base}/get?id=1`, type: 'lora' }, opts);
    expect(r.path).toBe(join(modelsDir, 'loras', 'evil.safetensors'));
    writeFileSync(join(modelsDir, 'loras', 'keep.safetensors'), 'mine');
    host.bytes('/files/keep.safetensors', LORA);
    await expect(downloadModel({ source: `${host.base}/files/keep.safetensors`, type: 'lora' }, opts)).rejects.toMatchObject({ code: 'conflict' });
    expect(readFileSync(join(modelsDir, 'loras', 'keep.safetensors'), 'utf8')).toBe('mine');
    await expect(downloadModel({ source: `${host.base}/files/keep.safetensors`, type: 'lora', filename: 'notes.txt' }, opts)).rejects.toMatchObject({ code: 'invalid_params', field: 'filename' });
  });

  it('fetches the CLIP tokenizer once after an SD1 checkpoint', async () => {
    host.bytes('/files/tiny-sd1.safetensors', SD1);
    host.bytes('/openai/clip-vit-large-patch14/resolve/main/vocab.json', Buffer.from('{"<|startoftext|>": 0, "<|endoftext|>": 1}'));
    host.bytes('/openai/clip-vit-large-patch14/resolve/main/merges.txt', Buffer.from('#version: 0.2\na b\n'));
    const r = await downloadModel({ source: `${host.base}/files/tiny-sd1.safetensors`, type: 'checkpoint' }, opts);
    expect(r.warnings).toBeUndefined();
    const dir = join(modelsDir, 'tokenizers', 'clip-vit-large-patch14');
    // Where the engine looks for it.
    expect(findTokenizerDir({ modelsDir })).toBe(dir);
    expect(readFileSync(join(dir, 'merges.txt'), 'utf8')).toBe('#version: 0.2\na b\n');
    expect(readdirSync(dir).sort()).toEqual(['merges.txt', 'vocab.json']);
    await downloadModel({ source: `${host.base}/files/tiny-sd1.safetensors`, type: 'checkpoint', filename: 'second.safetensors' }, opts);
    expect(host.requestsTo('/openai/clip-vit-large-patch14/resolve/main/vocab.json')).toHaveLength(1);
    // The optional files this repo lacks were asked for once and skipped.
    expect(host.requestsTo('/openai/clip-vit-large-patch14/resolve/main/tokenizer_config.json')).toHaveLength(1);
  });

  it('fetches a tokenizer on demand (type tokenizer, hf:owner/repo)', async () => {
    host.bytes('/acme/tok/resolve/main/vocab.json', Buffer.from('{"a": 0}'));
    host.bytes('/acme/tok/resolve/main/merges.txt', Buffer.from('#version: 0.2\n'));
    host.bytes('/acme/tok/resolve/main/tokenizer_config.json', Buffer.from('{}'));
    const r = await downloadModel({ source: 'hf:acme/tok', type: 'tokenizer' }, opts);
    expect(r).toMatchObject({ type: 'tokenizer', name: 'tok', path: join(modelsDir, 'tokenizers', 'tok'), sha256: sha256(Buffer.from('{"a": 0}')) });
    expect(readdirSync(r.path).sort()).toEqual(['merges.txt', 'tokenizer_config.json', 'vocab.json']);
    await expect(downloadModel({ source: `${host.base}/x`, type: 'tokenizer' }, opts)).rejects.toMatchObject({ code: 'invalid_params' });
  });
});

// A prompt expander downloads as a whole Hugging Face repository folder into prompt-expanders/<repo>/
// (fake hub on 127.0.0.1), lands only when complete, is listed by the registry with its type, and is
// what the engine loads.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listExpanders } from '../../../native/lm/lm-host.js';
import { fixturePath } from '../../../native/testing/fixtures.js';
import { checkDownloadRequest, downloadModel, type DownloadOptions } from '../downloads/index.js';
import { listModels } from '../registry.js';
import { FakeHost } from './fake-hosts.js';

const REPO = '/acme/TinyPrompt/resolve/main';
const files: Record<string, Buffer> = {
  'config.json': readFileSync(fixturePath('gpt2-tiny', 'config.json')),
  'model.safetensors': readFileSync(fixturePath('gpt2-tiny', 'model.safetensors')),
  'vocab.json': readFileSync(fixturePath('gpt2-tiny', 'tokenizer', 'vocab.json')),
  'merges.txt': readFileSync(fixturePath('gpt2-tiny', 'tokenizer', 'merges.txt')),
  'tokenizer_config.json': readFileSync(fixturePath('gpt2-tiny', 'tokenizer', 'tokenizer_config.json')),
};

describe('prompt expander downloads (hf:owner/repo, type prompt_expander)', () => {
  let host: FakeHost;
  let modelsDir: string;
  let opts: DownloadOptions;
  beforeAll(async () => {
    host = await FakeHost.start();
  });
  afterAll(async () => {
    await host.close();
  });
  beforeEach(() => {
    modelsDir = mkdtempSync(join(tmpdir(), 'easel-exp-'));
    opts = { modelsDir, allowPrivate: true, hfEndpoint: host.base, retryDelaysMs: [0, 0], diskMarginBytes: 0 };
  });
  afterEach(() => rmSync(modelsDir, { recursive: true, force: true }));

  it('fetches the repository folder, which the registry lists and the engine finds', async () => {
    for (const [f, data] of Object.entries(files)) host.bytes(`${REPO}/${f}`, data);
    const r = await downloadModel({ source: 'hf:acme/TinyPrompt', type: 'prompt_expander' }, opts);
    const dir = join(modelsDir, 'prompt-expanders', 'TinyPrompt');
    expect(r).toMatchObject({ type: 'prompt_expander', name: 'TinyPrompt', path: dir, size_bytes: files['model.safetensors'].length });
    expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    expect(readdirSync(join(modelsDir, 'prompt-expanders'))).toEqual(['TinyPrompt']); // no .part left
    // optional files the repo lacks were asked for once; the .bin fallback was not needed
    expect(host.requestsTo(`${REPO}/generation_config.json`)).toHaveLength(1);
    expect(host.requestsTo(`${REPO}/pytorch_model.bin`)).toHaveLength(0);
    expect(await listModels(modelsDir, 'prompt_expander')).toEqual([{ name: 'TinyPrompt', type: 'prompt_expander', size_bytes: files['model.safetensors'].length }]);
    expect(listExpanders(modelsDir)).toEqual(['TinyPrompt']);
    // asking again reports the folder that is there
    expect(await downloadModel({ source: 'hf:acme/TinyPrompt', type: 'prompt_expander' }, opts)).toMatchObject({ existing: true, sha256: r.sha256 });
  });

  it('refuses a file path, a non-hf source, and a repository without weights (nothing lands)', async () => {
    expect(() => checkDownloadRequest({ source: 'hf:acme/TinyPrompt/model.safetensors', type: 'prompt_expander' })).toThrow(/whole Hugging Face repository/);
    expect(() => checkDownloadRequest({ source: 'https://example.com/x.safetensors', type: 'prompt_expander' })).toThrow(/hf:owner\/repo/);
    for (const f of ['config.json', 'vocab.json', 'merges.txt']) host.bytes(`/acme/NoWeights/resolve/main/${f}`, files[f]!);
    await expect(downloadModel({ source: 'hf:acme/NoWeights', type: 'prompt_expander' }, opts)).rejects.toMatchObject({ code: 'not_found' });
    expect(existsSync(join(modelsDir, 'prompt-expanders', 'NoWeights'))).toBe(false);
    expect(await listModels(modelsDir, 'prompt_expander')).toEqual([]);
  });
});

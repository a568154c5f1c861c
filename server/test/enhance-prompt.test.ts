// enhance_prompt end to end: the real server and engine worker with the tiny GPT-2 (gpt2-tiny fixture)
// in models/prompt-expanders/: streamed `enhance:partial` events, `n` variations, seed reproducibility,
// cancel, long and empty prompts, and `enhance_prompt` inside a generate job (expanded prompt in the
// infotext).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkTinyExpander } from '../../native/lm/testing/tiny-expander.js';
import { writeTinyCheckpoint } from '../../native/models/random-checkpoint.js';
import { parseInfotext } from '../infotext/index.js';
import type { CompleteEvent, EnhancePartialEvent, ErrorEvent } from '../protocol/events.js';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, collect, connect, startTestServer, tempDir, waitFor, installTinyTokenizer, type AckResult, type AnySocket, type TestServer } from './helpers.js';

const MS = 120_000;

describe('enhance_prompt with the real engine worker', () => {
  let server: TestServer;
  let s: AnySocket;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    linkTinyExpander(join(dataDir, 'models'), 'tiny-gpt2');
    installTinyTokenizer(join(dataDir, 'models'));
    mkdirSync(join(dataDir, 'models', 'checkpoints'), { recursive: true });
    await writeTinyCheckpoint(join(dataDir, 'models', 'checkpoints', 'tiny.safetensors'), { seed: 11 });
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY, dataDir });
    s = await connect(server.url, { token: server.token, client_id: 'enhance-test' });
  }, MS);
  /** An action whose ack may take long on a busy machine (the first one loads the model in the LM thread). */
  const ask = (event: string, payload: unknown): Promise<AckResult> => s.timeout(MS).emitWithAck(event, payload) as Promise<AckResult>;

  afterAll(async () => {
    s?.close();
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams partial text and answers n variations, the same for the same seed', async () => {
    const partial = collect<EnhancePartialEvent>(s, 'enhance:partial');
    const req = { prompt: 'a cat in the rain', n: 2, seed: 1234, max_new_tokens: 8, request_id: 'r1' };
    const a = await ask('enhance_prompt', req);
    expect(a, JSON.stringify(a)).toMatchObject({ ok: true, request_id: 'r1', model: 'tiny-gpt2', seeds: [1234, 1235] });
    const prompts = a.prompts as string[];
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).not.toBe(prompts[1]);
    expect(prompts.every((p) => p.startsWith('a cat in the rain'))).toBe(true);
    const mine = partial.filter((e) => e.request_id === 'r1');
    expect(mine.filter((e) => e.index === 0)).toHaveLength(8);
    expect(mine.filter((e) => e.index === 1)).toHaveLength(8);
    const b = await ask('enhance_prompt', { ...req, request_id: 'r2' });
    expect(b.prompts).toEqual(prompts);
  }, MS);

  it('cancels a running expansion', async () => {
    const first = waitFor<EnhancePartialEvent>(s, 'enhance:partial', (e) => e.request_id === 'c1', MS);
    const pending = ask('enhance_prompt', { prompt: 'a castle', max_new_tokens: 240, request_id: 'c1' });
    await first;
    expect(await call(s, 'cancel_enhance', { request_id: 'c1' })).toMatchObject({ ok: true, status: 'cancelling' });
    expect((await pending).error).toMatchObject({ code: 'cancelled' });
    expect((await call(s, 'cancel_enhance', { request_id: 'c1' })).error).toMatchObject({ code: 'not_found' });
  }, MS);

  it('gives clear answers for a 10,000-character prompt, an empty one, and bad settings', async () => {
    const long = await ask('enhance_prompt', { prompt: 'cat, '.repeat(2000) });
    expect(long.error).toMatchObject({ code: 'invalid_params' });
    expect(String((long.error as { message: string }).message)).toMatch(/tokens/);
    expect((await ask('enhance_prompt', { prompt: 'x'.repeat(10_001) })).error).toMatchObject({ code: 'invalid_params', field: 'prompt' });
    const empty = await ask('enhance_prompt', { prompt: '', greedy: true, max_new_tokens: 5 });
    expect(empty, JSON.stringify(empty)).toMatchObject({ ok: true });
    expect((empty.prompts as string[])[0].length).toBeGreaterThan(1);
    expect((await ask('enhance_prompt', { prompt: 'x', model: 'missing' })).error).toMatchObject({ code: 'model_not_found' });
    expect((await ask('enhance_prompt', { prompt: 'x', temperature: 0 })).error).toMatchObject({ code: 'invalid_params', field: 'temperature' });
  }, MS);

  it('generate with enhance_prompt writes the expanded prompt into the infotext', async () => {
    const ack = await call(s, 'generate', {
      prompt: 'a red house',
      width: 64,
      height: 64,
      steps: 2,
      seed: 7,
      rng: 'cpu',
      enhance_prompt: { max_new_tokens: 6 },
    });
    expect(ack, JSON.stringify(ack)).toMatchObject({ ok: true });
    const jobId = ack.job_id as string;
    const failed = waitFor<ErrorEvent>(s, 'error', (e) => e.job_id === jobId, MS).then((e) => {
      throw new Error(`job failed: ${e.code}: ${e.message}`);
    });
    const done = await Promise.race([waitFor<CompleteEvent>(s, 'complete', (e) => e.job_id === jobId, MS), failed]);
    const info = parseInfotext(done.images[0]!.infotext);
    // the same expansion as the action gives for seed 7 (the image seed)
    const direct = await ask('enhance_prompt', { prompt: 'a red house', seed: 7, max_new_tokens: 6 });
    expect(info.prompt).toBe((direct.prompts as string[])[0]);
    expect(info.prompt.startsWith('a red house ')).toBe(true);
    expect(info.fields['Original prompt']).toBe('a red house');
    expect(info.fields['Prompt enhancer']).toBe('tiny-gpt2');
    expect(info.fields['Enhancer seed']).toBe('7');
  }, MS);
});

// The LM host runs expansion in a worker thread: results equal the in-process expander's, partial
// text streams, cancel stops it mid-generation, the thread stops when idle, names stay in their folder.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmHost, resolveExpanderDir } from './lm-host.js';
import { linkTinyExpander } from './testing/tiny-expander.js';

let modelsDir: string;
let host: LmHost;

beforeAll(() => {
  modelsDir = linkTinyExpander();
  host = new LmHost({ modelsDir, device: 'cpu', intraOpThreads: 1, idleMs: 60_000 });
});
afterAll(async () => {
  await host?.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('LmHost', () => {
  it('expands in a worker thread, streaming partial text, reproducibly per seed', async () => {
    const partial: Array<[number, string]> = [];
    const a = await host.expand({ prompt: 'a castle', n: 2, seed: 42, max_new_tokens: 6 }, { onPartial: (i, t) => partial.push([i, t]) });
    expect(a.prompts).toHaveLength(2);
    expect(a.seeds).toEqual([42, 43]);
    expect(a.model).toBe('tiny-gpt2');
    expect(partial.filter(([i]) => i === 0)).toHaveLength(6);
    expect(partial.filter(([i]) => i === 1)).toHaveLength(6);
    expect(partial.every(([, t]) => t.startsWith('a castle'))).toBe(true);
    const b = await host.expand({ prompt: 'a castle', n: 2, seed: 42, max_new_tokens: 6 });
    expect(b.prompts).toEqual(a.prompts);
    expect(host.starts).toBe(1);
  });

  it('cancels between tokens', async () => {
    const ac = new AbortController();
    let seen = 0;
    const p = host.expand({ prompt: 'a castle', max_new_tokens: 200 }, { signal: ac.signal, onPartial: () => (++seen === 2 ? ac.abort() : undefined) });
    await expect(p).rejects.toMatchObject({ code: 'lm_cancelled' });
    expect(seen).toBeLessThan(50);
  });

  it('refuses unknown models, escapes and too little memory with coded errors', async () => {
    await expect(host.expand({ prompt: 'x', model: 'nope' })).rejects.toMatchObject({ code: 'lm_model_not_found' });
    expect(() => resolveExpanderDir(modelsDir, '../../etc')).toThrow(/not a folder inside/);
    const poor = new LmHost({ modelsDir, device: 'cpu', freeMemory: () => 1024 });
    await expect(poor.expand({ prompt: 'x' })).rejects.toMatchObject({ code: 'lm_unavailable' });
    expect(poor.running).toBe(false);
  });

  it('stops the thread when idle and starts it again on demand', async () => {
    const h = new LmHost({ modelsDir, device: 'cpu', intraOpThreads: 1, idleMs: 50 });
    await h.expand({ prompt: 'a dog', greedy: true, max_new_tokens: 2 });
    expect(h.running).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.running).toBe(false);
    const r = await h.expand({ prompt: 'a dog', greedy: true, max_new_tokens: 2 });
    expect(r.prompts[0].startsWith('a dog')).toBe(true);
    expect(h.starts).toBe(2);
    await h.close();
  });
});

import { describe, expect, it } from 'vitest';
import type { EngineSession } from './ort-backend.js';
import { SessionCache } from './session-cache.js';

// A stand-in session that records its disposal (the cache never looks inside sessions).
function fakeSession(label: string, log: string[]): EngineSession {
  return {
    label,
    run: async () => ({ out: new Float32Array([label.length]) }),
    dispose: async () => {
      log.push(`dispose ${label}`);
    },
  };
}

describe('SessionCache', () => {
  it('creates once per key and evicts the least recently used', async () => {
    const log: string[] = [];
    const cache = new SessionCache(2);
    const create = (k: string) => async () => {
      log.push(`create ${k}`);
      return fakeSession(k, log);
    };
    const use = (k: string) => cache.use(k, create(k), async (s) => s.label);
    expect(await use('a')).toBe('a');
    expect(await use('b')).toBe('b');
    expect(await use('a')).toBe('a'); // hit: a becomes most recent
    expect(await use('c')).toBe('c'); // evicts b
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(log).toEqual(['create a', 'create b', 'create c', 'dispose b']);
    await cache.dispose();
    expect(log.slice(4).sort()).toEqual(['dispose a', 'dispose c']);
    await expect(use('a')).rejects.toMatchObject({ code: 'disposed' });
  });

  it('frees an idle session before the next one loads its weights (one session: never two copies)', async () => {
    const log: string[] = [];
    const cache = new SessionCache(1);
    const create = (k: string) => async () => {
      await Promise.resolve(); // a real creation builds its graph, then awaits the weight fill
      log.push(`load ${k}`);
      return fakeSession(k, log);
    };
    await cache.use('a', create('a'), async () => undefined);
    await cache.use('b', create('b'), async () => undefined);
    expect(log).toEqual(['load a', 'dispose a', 'load b']);
    await cache.dispose();
  });

  it('shares one creation between concurrent requests and waits for running sessions before disposing', async () => {
    const log: string[] = [];
    const cache = new SessionCache(1);
    let creations = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const create = (k: string) => async () => {
      creations++;
      return fakeSession(k, log);
    };
    const slow = cache.use('a', create('a'), async () => {
      await gate;
      log.push('a finished');
    });
    const fast = cache.use('a', create('a'), async () => 'again');
    expect(await fast).toBe('again');
    expect(creations).toBe(1);
    await cache.use('b', create('b'), async () => undefined); // evicts a while it still runs
    expect(log).toEqual([]);
    release();
    await slow;
    expect(log).toEqual(['a finished', 'dispose a']);
    await cache.dispose();
  });

  it('forgets a failed creation so that the next call retries', async () => {
    const cache = new SessionCache(2);
    await expect(cache.use('x', async () => Promise.reject(new Error('boom')), async () => 1)).rejects.toThrow('boom');
    expect(cache.size).toBe(0);
    expect(await cache.use('x', async () => fakeSession('x', []), async () => 2)).toBe(2);
  });
});

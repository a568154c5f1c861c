import { describe, expect, it } from 'vitest';
import { AUTO_LOW_BELOW_BYTES, parseEngineMemory, resolveEngineMemory } from './memory-mode.js';

describe('engine memory mode', () => {
  it('parses the three settings and nothing else', () => {
    expect(parseEngineMemory('LOW')).toBe('low');
    expect(parseEngineMemory(' normal ')).toBe('normal');
    expect(parseEngineMemory('auto')).toBe('auto');
    expect(parseEngineMemory('lowvram')).toBeUndefined();
    expect(parseEngineMemory(undefined)).toBeUndefined();
  });

  it("'auto' is low only on a CPU with a load cache and under 12 GiB of RAM", () => {
    const small = AUTO_LOW_BELOW_BYTES - 1;
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: true, totalBytes: small })).toBe('low');
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: true, totalBytes: AUTO_LOW_BELOW_BYTES })).toBe('normal');
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: false, totalBytes: small })).toBe('normal');
    expect(resolveEngineMemory('auto', { device: 'cuda', loadCache: true, totalBytes: small })).toBe('normal');
  });

  it('an explicit setting wins', () => {
    expect(resolveEngineMemory('low', { device: 'cuda', loadCache: false, totalBytes: 2 ** 40 })).toBe('low');
    expect(resolveEngineMemory('normal', { device: 'cpu', loadCache: true, totalBytes: 1 })).toBe('normal');
  });
});

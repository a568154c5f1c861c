import { describe, expect, it } from 'vitest';
import { parseEngineMemory, resolveEngineMemory } from './memory-mode.js';

describe('engine memory mode', () => {
  it('parses the four settings and nothing else', () => {
    expect(parseEngineMemory('LOW')).toBe('low');
    expect(parseEngineMemory('Lowest')).toBe('lowest');
    expect(parseEngineMemory(' normal ')).toBe('normal');
    expect(parseEngineMemory('auto')).toBe('auto');
    expect(parseEngineMemory('lowvram')).toBeUndefined();
    expect(parseEngineMemory(undefined)).toBeUndefined();
  });

  it("'auto' is low on the CPU with a load cache (a reopen is a cache hit), else normal", () => {
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: true })).toBe('low');
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: false })).toBe('normal');
    expect(resolveEngineMemory('auto', { device: 'cuda', loadCache: true })).toBe('normal');
    // full-VAE previews run between UNet steps: one part at a time would reopen the UNet each step
    expect(resolveEngineMemory('auto', { device: 'cpu', loadCache: true, fullPreviews: true })).toBe('normal');
  });

  it('an explicit setting wins', () => {
    expect(resolveEngineMemory('low', { device: 'cuda', loadCache: false })).toBe('low');
    expect(resolveEngineMemory('normal', { device: 'cpu', loadCache: true })).toBe('normal');
    expect(resolveEngineMemory('lowest', { device: 'cpu', loadCache: true })).toBe('lowest');
  });
});

import { describe, expect, it } from 'vitest';
import { applySuggestion, loadExpanderModel, saveExpanderModel } from './enhance.js';

describe('prompt suggestions', () => {
  it('replaces, or appends only what the suggestion adds', () => {
    expect(applySuggestion('a cat', 'a cat, highly detailed, 8k', 'replace')).toBe('a cat, highly detailed, 8k');
    expect(applySuggestion('a cat', 'a cat, highly detailed, 8k', 'append')).toBe('a cat, highly detailed, 8k');
    expect(applySuggestion('a cat, ', 'a cat in the rain', 'append')).toBe('a cat, a cat in the rain');
    expect(applySuggestion('', 'castle at dawn', 'append')).toBe('castle at dawn');
    expect(applySuggestion('a cat', 'a cat', 'append')).toBe('a cat');
  });

  it('remembers the chosen expander', () => {
    const m = new Map<string, string>();
    const store = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    expect(loadExpanderModel(store)).toBe('');
    saveExpanderModel(store, 'MagicPrompt-Stable-Diffusion');
    expect(loadExpanderModel(store)).toBe('MagicPrompt-Stable-Diffusion');
    saveExpanderModel(store, '');
    expect(loadExpanderModel(store)).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { hashForTab, tabFromHash, TABS, tokenFromHash, visibleTabs } from './routes.js';

describe('hash routes', () => {
  it('maps every tab to a hash and back', () => {
    for (const t of TABS) expect(tabFromHash(hashForTab(t))).toBe(t);
  });

  it('falls back to Generate for unknown or empty hashes', () => {
    expect(tabFromHash('')).toBe('generate');
    expect(tabFromHash('#/nope')).toBe('generate');
    expect(tabFromHash('#token=abc')).toBe('generate');
    expect(tabFromHash('#gallery')).toBe('gallery');
  });

  it('reads the token of the start link', () => {
    expect(tokenFromHash('#token=abc%2Fdef')).toBe('abc/def');
    expect(tokenFromHash('#/gallery')).toBeNull();
    expect(tokenFromHash('#x=1&token=t1')).toBe('t1');
  });

  it('shows the ControlNet tab only once the engine says ControlNet works', () => {
    expect(visibleTabs({})).toEqual(['generate', 'inpaint', 'gallery', 'settings']);
    expect(visibleTabs({ generate: true, controlnet: false })).not.toContain('controlnet');
    expect(visibleTabs({ controlnet: true })).toEqual([...TABS]);
  });
});

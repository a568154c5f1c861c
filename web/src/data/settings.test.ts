import { describe, expect, it } from 'vitest';
import { defaultServerUrlFor, loadSettings, newClientId, normalizeServerUrl, saveSettings } from './settings.js';
import { memoryStore } from './testing/memory-store.js';

describe('settings', () => {
  it('creates a stable client id once', () => {
    const store = memoryStore();
    const a = loadSettings(store, '');
    const b = loadSettings(store, '');
    expect(a.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(b.clientId).toBe(a.clientId);
  });

  it('remembers server URL, token and theme', () => {
    const store = memoryStore();
    saveSettings(store, { serverUrl: 'my-tunnel.trycloudflare.com/', token: ' t0k ', theme: 'light' });
    const s = loadSettings(store, 'http://ignored');
    expect(s).toMatchObject({ serverUrl: 'https://my-tunnel.trycloudflare.com', token: 't0k', theme: 'light' });
    saveSettings(store, { token: '' });
    expect(loadSettings(store, '').token).toBe('');
  });

  it('defaults to the page origin only when served by the server', () => {
    expect(defaultServerUrlFor(false, 'http://127.0.0.1:7860')).toBe('http://127.0.0.1:7860');
    expect(defaultServerUrlFor(true, 'https://me.github.io')).toBe('');
    expect(loadSettings(memoryStore(), 'http://x:1').serverUrl).toBe('http://x:1');
  });

  it('normalises server URLs', () => {
    expect(normalizeServerUrl('  http://127.0.0.1:7860//  ')).toBe('http://127.0.0.1:7860');
    expect(normalizeServerUrl('localhost:7860')).toBe('http://localhost:7860');
    expect(normalizeServerUrl('')).toBe('');
    expect(newClientId(() => new Uint8Array(16).fill(255))).toBe('f'.repeat(32));
  });
});

import { describe, expect, it } from 'vitest';
import { apiUrl, fileUrl } from './http.js';
import { FALLBACK_INFO, parseServerInfo } from './info.js';

describe('server info', () => {
  it('reads the /api/info shape of the server', () => {
    const info = parseServerInfo({
      version: '0.1.0',
      samplers: [{ id: 'dpmpp_2m', label: 'DPM++ 2M', aliases: [] }],
      schedulers: [{ id: 'karras', label: 'Karras' }],
      models: ['tiny.safetensors'],
      loras: ['ink.safetensors', { name: 'glow', trigger_words: ['glowing', 3] }],
      engine: { capabilities: { generate: false } },
    });
    expect(info.samplers).toEqual([{ id: 'dpmpp_2m', label: 'DPM++ 2M' }]);
    expect(info.models).toEqual(['tiny.safetensors']);
    expect(info.loras).toEqual([{ name: 'ink.safetensors' }, { name: 'glow', trigger_words: ['glowing'] }]);
    expect(info.engineCanGenerate).toBe(false);
  });

  it('falls back to built-in lists for missing or malformed parts', () => {
    const info = parseServerInfo({ samplers: 'nope', engine: { capabilities: null } });
    expect(info.samplers).toEqual(FALLBACK_INFO.samplers);
    expect(info.schedulers).toEqual(FALLBACK_INFO.schedulers);
    expect(info.engineCanGenerate).toBeNull();
    expect(parseServerInfo(null).version).toBe('unknown');
  });

  it('joins URLs keeping a tunnel path prefix', () => {
    expect(apiUrl('https://t.example/easel/', '/api/info')).toBe('https://t.example/easel/api/info');
    expect(fileUrl('http://h:1', '/files/thumbs/a?exp=1&sig=x')).toBe('http://h:1/files/thumbs/a?exp=1&sig=x');
    expect(fileUrl('http://h:1', 'https://cdn/x.png')).toBe('https://cdn/x.png');
  });
});

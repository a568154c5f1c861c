import { describe, expect, it } from 'vitest';
import { apiUrl, fileUrl } from './http.js';
import { FALLBACK_INFO, parseServerInfo, withRegistry } from './info.js';
import { registryLists } from './models.js';

describe('server info', () => {
  it('reads the /api/info shape of the server', () => {
    const info = parseServerInfo({
      version: '0.1.0',
      samplers: [{ id: 'dpmpp_2m', label: 'DPM++ 2M', aliases: [] }],
      schedulers: [{ id: 'karras', label: 'Karras' }],
      models: ['tiny.safetensors'],
      loras: ['ink.safetensors', { name: 'glow', trigger_words: ['glowing', 3] }],
      vaes: ['kl-f8.safetensors', 7],
      engine: { capabilities: { generate: false, controlnet: true, sdxl: 'yes' } },
    });
    expect(info.samplers).toEqual([{ id: 'dpmpp_2m', label: 'DPM++ 2M' }]);
    expect(info.models).toEqual(['tiny.safetensors']);
    expect(info.loras).toEqual([{ name: 'ink.safetensors' }, { name: 'glow', trigger_words: ['glowing'] }]);
    expect(info.vaes).toEqual(['kl-f8.safetensors']);
    expect(info.engineCanGenerate).toBe(false);
    expect(info.capabilities).toEqual({ generate: false, controlnet: true });
  });

  it('takes the VAE list and the LoRA trigger words from the model registry', () => {
    const info = parseServerInfo({ models: ['tiny.safetensors'], loras: ['ink.safetensors', 'plain.safetensors'], vaes: ['stale.safetensors'] });
    const registry = registryLists([
      { name: 'tiny.safetensors', type: 'checkpoint', size_bytes: 10 },
      { name: 'ink.safetensors', type: 'lora', size_bytes: 10, metadata: { trigger_words: ['inkstyle', 'sumi-e'] } },
      { name: 'plain.safetensors', type: 'lora', size_bytes: 10, metadata: { title: 'no tags' } },
      { name: 'sd-vae-ft-mse.safetensors', type: 'vae', size_bytes: 10 },
    ]);
    const merged = withRegistry(info, registry);
    expect(merged.vaes).toEqual(['sd-vae-ft-mse.safetensors']);
    expect(merged.loras).toEqual([{ name: 'ink.safetensors', trigger_words: ['inkstyle', 'sumi-e'] }, { name: 'plain.safetensors' }]);
    expect(merged.models).toEqual(['tiny.safetensors']);
  });

  it('falls back to built-in lists for missing or malformed parts', () => {
    const info = parseServerInfo({ samplers: 'nope', engine: { capabilities: null } });
    expect(info.samplers).toEqual(FALLBACK_INFO.samplers);
    expect(info.schedulers).toEqual(FALLBACK_INFO.schedulers);
    expect(info.engineCanGenerate).toBeNull();
    expect(info.capabilities).toEqual({});
    expect(parseServerInfo(null).version).toBe('unknown');
  });

  it('joins URLs keeping a tunnel path prefix', () => {
    expect(apiUrl('https://t.example/easel/', '/api/info')).toBe('https://t.example/easel/api/info');
    expect(fileUrl('http://h:1', '/files/thumbs/a?exp=1&sig=x')).toBe('http://h:1/files/thumbs/a?exp=1&sig=x');
    expect(fileUrl('http://h:1', 'https://cdn/x.png')).toBe('https://cdn/x.png');
  });
});

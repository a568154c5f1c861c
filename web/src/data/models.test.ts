import { describe, expect, it } from 'vitest';
import { DOWNLOAD_SOURCE, formatBytes, formatEta, formatSpeed, registryLists } from './models.js';

describe('model formatting', () => {
  it('formats sizes, speeds and ETAs', () => {
    expect(formatBytes(1_990_000_000)).toBe('2.0 GB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatSpeed(12_300_000)).toBe('12 MB/s');
    expect(formatSpeed(0)).toBe('');
    expect(formatEta(42.4)).toBe('42 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
    expect(formatEta(null)).toBe('');
  });

  it('accepts the sources the server takes', () => {
    for (const ok of ['https://civitai.com/models/4201?modelVersionId=130072', 'hf:o/r/sub/m.safetensors', 'hf:o/r@v2/m.safetensors', 'hf:openai/clip-vit-large-patch14', 'civitai:128713']) {
      expect(DOWNLOAD_SOURCE.test(ok)).toBe(true);
    }
    for (const bad of ['http://example.com/m.safetensors', 'file:///etc/passwd', 'civitai:abc', 'hf:only']) expect(DOWNLOAD_SOURCE.test(bad)).toBe(false);
  });
});

describe('registry lists for the generation form', () => {
  it('keeps VAEs by name and LoRAs with their non-empty trigger words; other types stay out', () => {
    const lists = registryLists([
      { name: 'a.safetensors', type: 'checkpoint', size_bytes: 1 },
      { name: 'anime/kl-f8.safetensors', type: 'vae', size_bytes: 1 },
      { name: 'ink.safetensors', type: 'lora', size_bytes: 1, metadata: { trigger_words: ['inkstyle', ' ', 'brush'] } },
      { name: 'bare.safetensors', type: 'lora', size_bytes: 1, metadata: { trigger_words: [] } },
      { name: 'nometa.safetensors', type: 'lora', size_bytes: 1 },
      { name: 'e.pt', type: 'embedding', size_bytes: 1 },
    ]);
    expect(lists.vaes).toEqual(['anime/kl-f8.safetensors']);
    expect(lists.loras).toEqual([{ name: 'ink.safetensors', trigger_words: ['inkstyle', 'brush'] }, { name: 'bare.safetensors' }, { name: 'nometa.safetensors' }]);
  });
});

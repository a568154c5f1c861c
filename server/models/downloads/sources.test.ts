import { describe, expect, it } from 'vitest';
import { civitaiModelType, hfResolveUrl, parseCivitaiSource, parseHfSource } from './sources.js';

describe('parseHfSource', () => {
  it('reads owner/repo/path with an optional revision in either place, the field winning', () => {
    expect(parseHfSource('hf:runwayml/stable-diffusion-v1-5/v1-5-pruned-emaonly.safetensors')).toEqual({ repo: 'runwayml/stable-diffusion-v1-5', path: 'v1-5-pruned-emaonly.safetensors', revision: 'main' });
    expect(parseHfSource('hf:o/r@v1.0/sub/dir/m.safetensors')).toEqual({ repo: 'o/r', path: 'sub/dir/m.safetensors', revision: 'v1.0' });
    expect(parseHfSource('hf:o/r/m.safetensors@abc123')).toEqual({ repo: 'o/r', path: 'm.safetensors', revision: 'abc123' });
    expect(parseHfSource('hf:o/r/m.safetensors@abc123', 'refs/pr/1').revision).toBe('refs/pr/1');
    expect(parseHfSource('hf:openai/clip-vit-large-patch14')).toMatchObject({ repo: 'openai/clip-vit-large-patch14', path: '' });
  });

  it('refuses dot segments and malformed sources', () => {
    expect(() => parseHfSource('hf:o/r/../secret')).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(() => parseHfSource('hf:only-owner')).toThrow(expect.objectContaining({ code: 'invalid_params' }));
  });

  it('builds resolve URLs with each path part encoded', () => {
    expect(hfResolveUrl('https://huggingface.co/', { repo: 'o/r', path: 'a b/c#d.safetensors', revision: 'refs/pr/1' })).toBe('https://huggingface.co/o/r/resolve/refs%2Fpr%2F1/a%20b/c%23d.safetensors');
  });
});

describe('parseCivitaiSource', () => {
  const ep = 'https://civitai.com';
  it('reads civitai:<version>, page URLs with and without modelVersionId, and download URLs', () => {
    expect(parseCivitaiSource('civitai:128713', ep)).toEqual({ versionId: 128713 });
    expect(parseCivitaiSource('https://civitai.com/models/4201/realistic-vision?modelVersionId=130072', ep)).toEqual({ versionId: 130072 });
    expect(parseCivitaiSource('https://civitai.com/models/4201', ep)).toEqual({ modelId: 4201 });
    expect(parseCivitaiSource('https://civitai.com/api/download/models/130072?type=Model', ep)).toEqual({ versionId: 130072 });
    expect(parseCivitaiSource('https://example.com/models/4201', ep)).toBeUndefined();
    expect(parseCivitaiSource('https://civitai.com/images/55', ep)).toBeUndefined();
  });

  it('maps Civitai model types to folders', () => {
    expect(civitaiModelType('LORA')).toBe('lora');
    expect(civitaiModelType('LoCon')).toBe('lora');
    expect(civitaiModelType('TextualInversion')).toBe('embedding');
    expect(civitaiModelType('Checkpoint')).toBe('checkpoint');
    expect(civitaiModelType('Controlnet')).toBe('controlnet');
    expect(civitaiModelType('Hypernetwork')).toBeUndefined();
  });
});

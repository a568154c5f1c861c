import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStarterCatalog, starterFileName, starterView } from './starter-models.js';

const dir = mkdtempSync(join(tmpdir(), 'easel-starter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function catalogFile(models: unknown[]): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ models }));
  return path;
}

const entry = { id: 'x', name: 'X', description: 'd', family: 'sd1', type: 'checkpoint', source: 'hf:o/r/x.safetensors', size_bytes: 10, license: 'MIT', feature: 'f', requires: 'generate' };

describe('starter-model catalog', () => {
  const shipped = loadStarterCatalog();

  it('ships the models a newcomer needs, each with size, licence, feature and a source', () => {
    const ids = shipped.map((e) => e.id);
    for (const id of ['sd15', 'dreamshaper-8', 'sd15-inpainting', 'sdxl-base', 'sdxl-vae-fp16-fix', 'realesrgan-x4plus', 'realesrgan-x4plus-anime', 'adetailer-face', 'adetailer-hand', 'adetailer-person', 'magicprompt', 'taesd', 'taesdxl']) {
      expect(ids).toContain(id);
    }
    const sd15 = shipped.find((e) => e.id === 'sd15')!;
    expect(sd15.source).toBe('hf:stable-diffusion-v1-5/stable-diffusion-v1-5/v1-5-pruned-emaonly-fp16.safetensors');
    expect(starterFileName(sd15)).toBe('v1-5-pruned-emaonly-fp16.safetensors');
    expect(shipped.filter((e) => e.type === 'detector').map(starterFileName)).toEqual(['face_yolov8n.pt', 'hand_yolov8n.pt', 'person_yolov8n-seg.pt']);
    expect(starterFileName(shipped.find((e) => e.id === 'magicprompt')!)).toBeNull();
    expect(starterFileName({ ...entry, source: 'civitai:130072' })).toBeNull();
    expect(starterFileName({ ...entry, source: 'civitai:130072', filename: 'dream.safetensors' })).toBe('dream.safetensors');
    expect(starterFileName({ ...entry, source: 'hf:o/r@v2/sub/m.safetensors' })).toBe('m.safetensors');
    expect(starterFileName({ ...entry, source: 'https://civitai.com/api/download/models/130072' })).toBeNull();
  });

  it('offers only what the worker can run, and says why for the rest', () => {
    const caps = { generate: true, upscale: false, adetailer: false };
    const view = starterView(shipped, caps, []);
    const byId = new Map(view.map((v) => [v.id, v]));
    expect(byId.get('sd15')).toMatchObject({ available: true, installed: false, recommended: true, type: 'checkpoint' });
    expect(byId.get('sd15')!.unavailable_reason).toBeUndefined();
    expect(byId.get('sdxl-base')).toMatchObject({ available: false, unavailable_reason: 'needs SDXL models, which this server cannot run yet' });
    expect(byId.get('realesrgan-x4plus')).toMatchObject({ available: false, unavailable_reason: 'needs upscaling, which this server cannot run yet' });
    expect(byId.get('adetailer-face')!.available).toBe(false);
    // A feature that lands flips its entries on; a folder kind waits for its downloader.
    const later = new Map(starterView(shipped, { ...caps, sdxl: true, upscale: true, enhance_prompt: true }, []).map((v) => [v.id, v]));
    expect(later.get('sdxl-base')!.available).toBe(true);
    expect(later.get('realesrgan-x4plus')).toMatchObject({ available: true, sha256: '4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1' });
    expect(later.get('magicprompt')).toMatchObject({ available: false, unavailable_reason: 'this server cannot download prompt-expander models yet' });
    expect(starterView(shipped, undefined, [])[0]!.unavailable_reason).toMatch(/engine has not started/);
  });

  it('offers TAESD / TAESDXL once the worker has TAESD previews, as vae_approx files for $MODELS_DIR/vae-approx', () => {
    const without = new Map(starterView(shipped, { generate: true, sdxl: true }, []).map((v) => [v.id, v]));
    expect(without.get('taesd')).toMatchObject({ available: false, unavailable_reason: 'needs TAESD live previews, which this server cannot run yet' });
    const view = new Map(starterView(shipped, { generate: true, sdxl: true, taesd: true }, [{ name: 'taesdxl.safetensors', type: 'vae_approx', size_bytes: 1 }]).map((v) => [v.id, v]));
    expect(view.get('taesd')).toMatchObject({ available: true, installed: false, type: 'vae_approx' });
    expect(view.get('taesdxl')).toMatchObject({ available: true, installed: true, type: 'vae_approx' });
    expect(shipped.filter((e) => e.type === 'vae_approx').map(starterFileName)).toEqual(['taesd.safetensors', 'taesdxl.safetensors']);
  });

  it('marks an entry installed when the registry lists its file', () => {
    const view = starterView(shipped, { generate: true }, [{ name: 'sd/v1-5-pruned-emaonly-fp16.safetensors', type: 'checkpoint', size_bytes: 1 }]);
    expect(view.find((v) => v.id === 'sd15')!.installed).toBe(true);
    expect(view.find((v) => v.id === 'dreamshaper-8')!.installed).toBe(false);
  });

  it('refuses a broken catalog with the entry and field at fault', () => {
    expect(() => loadStarterCatalog(catalogFile([{ ...entry, sha256: 'abc' }]))).toThrow(/models\.0\.sha256/);
    expect(() => loadStarterCatalog(catalogFile([entry, entry]))).toThrow(/"x" appears twice/);
    expect(() => loadStarterCatalog(catalogFile([{ ...entry, extra: 1 }]))).toThrow(/extra/);
    expect(() => loadStarterCatalog(join(dir, 'missing.json'))).toThrow(/starter catalog/);
    expect(loadStarterCatalog(catalogFile([entry]))).toHaveLength(1);
  });
});

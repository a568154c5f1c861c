import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadConfig, SETTINGS } from './config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, []);
    expect(c).toMatchObject({ port: 7860, host: '127.0.0.1', dataDir: resolve('./data'), modelsDir: resolve('./models'), authToken: undefined, corsOrigins: [], rateLimitPoints: 100, rateLimitWindowS: 60, maxQueue: 100, engineDevice: 'cpu' });
  });

  it('reads env vars, and flags win over them', () => {
    const c = loadConfig({ PORT: '8000', CORS_ORIGINS: 'https://a.example, https://b.example', AUTH_TOKEN: 'secret-token-123456' }, ['--port', '9000', '--engine-device=cuda']);
    expect(c.port).toBe(9000);
    expect(c.engineDevice).toBe('cuda');
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.authToken).toBe('secret-token-123456');
  });

  it('refuses bad values and unknown flags, naming them', () => {
    expect(() => loadConfig({ PORT: 'http' })).toThrow('PORT must be an integer between 0 and 65535, got "http"');
    expect(() => loadConfig({}, ['--prot', '1'])).toThrow('unknown option --prot');
    expect(() => loadConfig({}, ['--port'])).toThrow('option --port needs a value');
    expect(() => loadConfig({ ENGINE_DEVICE: 'tpu' })).toThrow('ENGINE_DEVICE must be cpu or cuda');
  });

  it('takes the engine memory mode (auto by default) and refuses an unknown one', () => {
    expect(loadConfig({}, []).engineMemory).toBe('auto');
    expect(loadConfig({ ENGINE_MEMORY: 'Low' }, []).engineMemory).toBe('low');
    expect(loadConfig({}, ['--engine-memory', 'lowest']).engineMemory).toBe('lowest');
    expect(loadConfig({}, ['--engine-memory', 'normal']).engineMemory).toBe('normal');
    expect(() => loadConfig({ ENGINE_MEMORY: 'lowvram' })).toThrow('ENGINE_MEMORY must be auto, lowest, low, normal, got "lowvram"');
  });

  it('takes the live preview method (auto by default) and refuses an unknown one', () => {
    expect(loadConfig({}, []).livePreviewMethod).toBe('auto');
    expect(loadConfig({ LIVE_PREVIEW_METHOD: 'TAESD' }, []).livePreviewMethod).toBe('taesd');
    expect(loadConfig({}, ['--live-preview-method', 'cheap']).livePreviewMethod).toBe('cheap');
    expect(() => loadConfig({ LIVE_PREVIEW_METHOD: 'approx-nn' })).toThrow('LIVE_PREVIEW_METHOD must be auto, cheap, taesd or full, got "approx-nn"');
  });

  it('documents every setting once', () => {
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.key)).size).toBe(SETTINGS.length);
  });
});

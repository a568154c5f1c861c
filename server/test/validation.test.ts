// Every action with bad input gets an error naming the field, and nothing changes; the 101st action
// in the window is refused with a retry time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

describe('validation over Socket.IO', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    // The per-address budget (all these clients share 127.0.0.1) is tested in test/faults/limits.test.ts.
    server = await startTestServer({ RATE_LIMIT_ADDRESS_POINTS: '100000' });
    s = await connect(server.url, { token: server.token });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  const cases: [string, unknown, string][] = [
    ['generate', { prompt: 'x', width: 1001 }, 'width'],
    ['generate', { prompt: 'x'.repeat(10_001) }, 'prompt'],
    ['generate', { sampler: 'Not A Sampler' }, 'sampler'],
    ['generate', { batch_size: 9 }, 'batch_size'],
    ['generate', { seed: 1.5 }, 'seed'],
    ['generate', { promt: 'typo' }, 'promt'],
    ['generate', { task: 'inpaint' }, 'image'],
    ['generate', 'a string', '(payload)'],
    ['cancel', { job_id: '../../etc' }, 'job_id'],
    ['cancel', {}, 'job_id'],
    ['upscale', { upscaler: 'x', scale: 2 }, 'image_id'],
    ['upscale', { image_id: 'a', upscaler: 'x', scale: 99 }, 'scale'],
    ['adetailer', { image_id: 'a', units: [{ ad_model: 'face_yolov8n.pt', ad_denoising_strength: 2 }] }, 'units.0.ad_denoising_strength'],
    ['adetailer', { image_id: 'a', units: [] }, 'units'],
    ['generate', { adetailer: [{ ad_model: 'face_yolov8n.pt', ad_mask_merge_invert: 'Invert' }] }, 'adetailer.0.ad_mask_merge_invert'],
    ['enhance_prompt', { prompt: 'x'.repeat(10_001) }, 'prompt'],
    ['enhance_prompt', { prompt: 'x', n: 9 }, 'n'],
    ['enhance_prompt', { prompt: 'x', blocklist: '(' }, 'blocklist'],
    ['cancel_enhance', { request_id: '../x' }, 'request_id'],
    ['enhance_prompt', { prompt: 'x', style: 7 }, 'style'],
    ['download_model', { source: 'file:///etc/passwd', type: 'lora' }, 'source'],
    ['download_model', { source: 'civitai:123', type: 'lora', filename: '../evil.safetensors' }, 'filename'],
    ['download_model', { source: 'civitai:123', type: 'weird' }, 'type'],
    ['download_model', { source: 'hf:owner/repo', type: 'lora' }, 'source'],
    ['download_model', { source: 'https://example.com/x.safetensors', type: 'tokenizer' }, 'source'],
    ['cancel_download', { job_id: '../x' }, 'job_id'],
    ['get_models', { type: 'weird' }, 'type'],
    ['get_gallery', { limit: 1000 }, 'limit'],
    ['get_gallery', { sort: 'x' }, 'sort'],
    ['get_queue', { extra: 1 }, 'extra'],
    ['get_job', { job_id: 5 }, 'job_id'],
    ['update_image', { id: 'x', favorite: 'yes' }, 'favorite'],
    ['delete_images', { ids: [] }, 'ids'],
    ['delete_images', { ids: ['ok', 'bad id'] }, 'ids.1'],
  ];

  it.each(cases)('%s %j → invalid_params naming %s', async (action, payload, field) => {
    const res = await call(s, action, payload);
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ code: 'invalid_params', field });
    expect(res.error!.message.length).toBeGreaterThan(0);
  });

  it('changed nothing: no job, no image', async () => {
    const q = await call(s, 'get_queue');
    expect(q).toMatchObject({ ok: true, jobs: [], queued: 0, running: null });
    const g = await call(s, 'get_gallery', {});
    expect(g).toMatchObject({ ok: true, items: [] });
  });

  it('answers unknown actions with unknown_action', async () => {
    expect((await call(s, 'make_coffee', {})).error).toMatchObject({ code: 'unknown_action' });
  });

  it('answers not-yet-built actions clearly after validating them', async () => {
    // download_model is built: it queues, and the SSRF guard fails this one without any network.
    const failed = waitFor<{ status: string; error?: { code: string } }>(s, 'download:progress', (e) => e.status === 'failed');
    expect(await call(s, 'download_model', { source: 'https://127.0.0.1/x.safetensors', type: 'lora' })).toMatchObject({ ok: true, job_id: expect.stringMatching(/^dl_/) });
    expect((await failed).error).toMatchObject({ code: 'forbidden_address' });
    // the fake worker has no enhance_prompt capability
    expect((await call(s, 'enhance_prompt', { prompt: 'a cat' })).error).toMatchObject({ code: 'engine_unavailable' });
    expect((await call(s, 'generate', { prompt: 'a cat', enhance_prompt: true })).error).toMatchObject({ code: 'engine_unavailable', field: 'enhance_prompt' });
    expect((await call(s, 'upscale', { image_id: 'nope', upscaler: 'x' })).error).toMatchObject({ code: 'engine_unavailable' });
    expect((await call(s, 'generate', { model: 'missing.safetensors' })).error).toMatchObject({ code: 'invalid_params', field: 'model' });
  });

  it('refuses the 101st action in the window with a retry time', async () => {
    const c = await connect(server.url, { token: server.token, client_id: 'rate-limit-client' });
    try {
      const results = [];
      for (let i = 0; i < 100; i++) results.push(call(c, 'get_queue'));
      expect((await Promise.all(results)).every((r) => r.ok)).toBe(true);
      const refused = await call(c, 'get_queue');
      expect(refused.ok).toBe(false);
      expect(refused.error).toMatchObject({ code: 'rate_limited' });
      expect(refused.error!.retry_after_s).toBeGreaterThan(0);
      expect(refused.error!.retry_after_s).toBeLessThanOrEqual(60);
      // The per-client limit: another client id (with address budget left) is not affected.
      expect((await call(s, 'get_queue')).ok).toBe(true);
    } finally {
      c.close();
    }
  });
});

// With the real worker of this build (no pipelines yet), `generate` is refused up front with a
// clear engine_unavailable error, and never yields an image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_ENTRY } from '../server.js';
import { call, connect, startTestServer, type AnySocket, type TestServer } from './helpers.js';

describe('real worker without pipelines', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    server = await startTestServer({}, { workerEntry: DEFAULT_WORKER_ENTRY });
    s = await connect(server.url, { token: server.token });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it('answers generate with engine_unavailable and queues nothing', async () => {
    const res = await call(s, 'generate', { prompt: 'a cat' });
    expect(res).toEqual({ ok: false, error: { code: 'engine_unavailable', message: 'the image generation engine is not available in this build yet' } });
    expect(await call(s, 'get_queue')).toMatchObject({ jobs: [], queued: 0 });
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { engine: { ready: boolean; capabilities: { generate: boolean } } };
    expect(health.engine).toMatchObject({ ready: true, capabilities: { generate: false } });
  });

  it('the worker itself answers a run with engine_unavailable (the seam the pipelines replace)', async () => {
    const controller = new AbortController();
    const run = server.supervisor.run('direct', 'generate', { prompt: 'x' }, { signal: controller.signal, previewEvery: 0, onProgress: () => {}, onPreview: () => {} });
    await expect(run).rejects.toMatchObject({ code: 'engine_unavailable' });
  });
});

// The hires object at the edge: bad hires fields are refused naming the field, and an engine that
// does not announce `hires` (the fake worker) answers not_implemented instead of queueing a job
// that would silently ignore it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, type AnySocket, type TestServer } from './helpers.js';

describe('hires over Socket.IO without a hires-capable engine', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    server = await startTestServer();
    s = await connect(server.url, { token: server.token });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it.each([
    [{ hires: { denoising_strength: 0 } }, 'hires.denoising_strength'],
    [{ hires: { sampler: 'Nope' } }, 'hires.sampler'],
    [{ hires: { scheduler: 'Nope' } }, 'hires.scheduler'],
    [{ hires: { steps: -1 } }, 'hires.steps'],
    [{ hires: { scale: 9 } }, 'hires.scale'],
    [{ hires: { upscaler: '' } }, 'hires.upscaler'],
    [{ hires: { hr_scale: 2 } }, 'hires.hr_scale'],
  ])('%j → invalid_params naming %s', async (payload, field) => {
    const res = await call(s, 'generate', { prompt: 'x', ...payload });
    expect(res.error).toMatchObject({ code: 'invalid_params', field });
  });

  it('answers not_implemented naming hires, and queues nothing', async () => {
    // Wait until the fake engine is up, so the refusal is about hires and not the engine.
    for (let i = 0; i < 100 && (await call(s, 'generate', { prompt: 'x', steps: 1 })).ok !== true; i++) await new Promise((r) => setTimeout(r, 50));
    const res = await call(s, 'generate', { prompt: 'x', hires: { scale: 2 } });
    expect(res.error).toMatchObject({ code: 'not_implemented', field: 'hires' });
    expect(res.error!.message).toMatch(/hires/);
  });
});

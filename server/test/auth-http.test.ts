// Token on the socket handshake and REST, CORS, origin check, health and info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, type TestServer } from './helpers.js';

describe('auth, CORS and REST basics', () => {
  let server: TestServer;
  const allowed = 'https://easel.example';

  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: allowed });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('refuses a socket without a token or with a wrong one', async () => {
    await expect(connect(server.url, {})).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    await expect(connect(server.url, { token: server.token + 'x' })).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    const ok = await connect(server.url, { token: server.token });
    expect((await call(ok, 'get_queue')).ok).toBe(true);
    ok.close();
  });

  it('refuses a socket from an origin that is not configured, accepts a configured one', async () => {
    await expect(connect(server.url, { token: server.token }, { origin: 'https://evil.example' })).rejects.toBeTruthy();
    const ok = await connect(server.url, { token: server.token }, { origin: allowed });
    ok.close();
  });

  it('answers /api/health without a token and reveals no secret', async () => {
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'ok', engine: { ready: true } });
    expect(text).not.toContain(server.token);
  });

  it('requires the token on /api, by Bearer or Basic', async () => {
    expect((await fetch(`${server.url}/api/info`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/info`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/images`)).status).toBe(401);
    const basic = 'Basic ' + Buffer.from(`anyone:${server.token}`).toString('base64');
    expect((await fetch(`${server.url}/api/info`, { headers: { authorization: basic } })).status).toBe(200);
    const res = await fetch(`${server.url}/api/info`, { headers: { authorization: `Bearer ${server.token}` } });
    const info = (await res.json()) as { generation_params: { properties: Record<string, unknown> }; samplers: { id: string; label: string }[]; schedulers: unknown[] };
    expect(info.generation_params.properties).toHaveProperty('prompt');
    expect(info.generation_params.properties).toHaveProperty('cfg_scale');
    expect(info.samplers).toContainEqual(expect.objectContaining({ id: 'dpmpp_2m', label: 'DPM++ 2M' }));
    expect(info.schedulers.length).toBeGreaterThan(3);
  });

  it('sends CORS headers to configured origins only', async () => {
    const pre = await fetch(`${server.url}/api/info`, { method: 'OPTIONS', headers: { origin: allowed, 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(allowed);
    const other = await fetch(`${server.url}/api/health`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits REST requests and socket connections per IP', async () => {
    const small = await startTestServer({ REST_RATE_LIMIT: '3', CONN_RATE_LIMIT: '2' });
    try {
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await fetch(`${small.url}/api/health`)).status);
      expect(codes).toEqual([200, 200, 200, 429]);
      const res = await fetch(`${small.url}/api/health`);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });

      const s1 = await connect(small.url, { token: small.token });
      const s2 = await connect(small.url, { token: small.token });
      await expect(connect(small.url, { token: small.token })).rejects.toMatchObject({ data: { code: 'rate_limited' } });
      s1.close();
      s2.close();
    } finally {
      await small.dispose();
    }
  });
});

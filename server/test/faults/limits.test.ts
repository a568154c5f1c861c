// Hostile inputs from the audit of issue 18: forged proxy headers, new client ids to dodge the
// action limit, corrupt init images, bad percent-encoding, `..` in hf: sources, a 30 MB body to a
// route that needs 64 KB, and absolute server paths in error messages.
import { request } from 'node:http';
import sharp from 'sharp';
import { io as connectClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, waitFor, type AnySocket, type TestServer } from '../helpers.js';

/** Connects with extra handshake headers; resolves with the socket or the refusal's data. */
function connectWith(url: string, token: string, headers: Record<string, string>, clientId?: string): Promise<{ socket?: AnySocket; error?: { code: string } }> {
  const socket = connectClient(url, { auth: { token, ...(clientId ? { client_id: clientId } : {}) }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (err: Error & { data?: { code: string } }) => {
      socket.close();
      resolve({ error: err.data ?? { code: err.message } });
    });
  });
}

describe('client address: one rule for REST and sockets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CONN_RATE_LIMIT: '3', REST_RATE_LIMIT: '3' });
  });
  afterAll(async () => server?.dispose());

  it('a forged left-most X-Forwarded-For entry buys no new socket connections', async () => {
    const opened: AnySocket[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await connectWith(server.url, server.token, { 'x-forwarded-for': `10.0.0.${i}, 203.0.113.7` });
      if (r.socket) opened.push(r.socket);
      codes.push(r.error?.code ?? 'ok');
    }
    opened.forEach((s) => s.close());
    expect(codes).toEqual(['ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
    // Another real client (right-most hop) has its own budget; so does a CF-Connecting-IP from the tunnel.
    const other = await connectWith(server.url, server.token, { 'x-forwarded-for': '203.0.113.7, 198.51.100.20' });
    expect(other.error).toBeUndefined();
    other.socket?.close();
    const cf = await connectWith(server.url, server.token, { 'cf-connecting-ip': '198.51.100.30', 'x-forwarded-for': '203.0.113.7' });
    expect(cf.error).toBeUndefined();
    cf.socket?.close();
  });

  it('REST follows the same rule', async () => {
    const get = (headers: Record<string, string>) => fetch(`${server.url}/api/health`, { headers }).then((r) => r.status);
    const forged = [];
    for (let i = 0; i < 5; i++) forged.push(await get({ 'x-forwarded-for': `10.9.0.${i}, 203.0.113.8` }));
    expect(forged).toEqual([200, 200, 200, 429, 429]);
    expect(await get({ 'x-forwarded-for': '203.0.113.8, 198.51.100.21' })).toBe(200);
    expect(await get({ 'cf-connecting-ip': '198.51.100.31', 'x-forwarded-for': '203.0.113.8' })).toBe(200);
    // The same CF address is the same client, whatever X-Forwarded-For says.
    for (let i = 0; i < 2; i++) await get({ 'cf-connecting-ip': '198.51.100.31', 'x-forwarded-for': `10.1.1.${i}` });
    expect(await get({ 'cf-connecting-ip': '198.51.100.31', 'x-forwarded-for': '10.1.1.9' })).toBe(429);
  });
});

describe('action limit per address and per token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_POINTS: '10' });
  });
  afterAll(async () => server?.dispose());

  it('a new client_id does not buy a new budget from the same address', async () => {
    const first = await connect(server.url, { token: server.token, client_id: 'dodger-1' });
    const acks = [];
    for (let i = 0; i < 10; i++) acks.push(await call(first, 'get_queue'));
    expect(acks.every((a) => a.ok)).toBe(true);
    first.close();
    const second = await connect(server.url, { token: server.token, client_id: 'dodger-2' });
    const refused = await call(second, 'get_queue');
    second.close();
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(refused.error?.message).toMatch(/address/);
  });

  it('the token has a ceiling of its own across addresses', async () => {
    // 10 points per client and per address, 100 per token: eleven addresses of 10 actions each.
    let refused: { code: string; message: string } | undefined;
    for (let a = 0; a < 11 && !refused; a++) {
      const r = await connectWith(server.url, server.token, { 'cf-connecting-ip': `198.51.100.${a + 1}` }, `token-${a}`);
      for (let i = 0; i < 10 && !refused; i++) {
        const ack = await call(r.socket!, 'get_queue');
        if (!ack.ok) refused = ack.error;
      }
      r.socket!.close();
    }
    expect(refused).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/token/) });
  });
});

describe('hostile payloads and URLs', () => {
  let server: TestServer;
  let s: AnySocket;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_POINTS: '100000' });
    s = await connect(server.url, { token: server.token });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it('refuses a corrupt or truncated init image at submit, naming the field and the problem', async () => {
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    const truncated = png.subarray(0, Math.floor(png.length * 0.6));
    const garbage = Buffer.concat([png.subarray(0, 40), Buffer.alloc(png.length - 40, 0x5a)]);
    for (const [bytes, why] of [
      [truncated, /truncated|corrupt/],
      [garbage, /corrupt|truncated/],
    ] as const) {
      const ack = await call(s, 'generate', { task: 'img2img', prompt: 'x', image: bytes.toString('base64'), strength: 0.5, steps: 2, width: 64, height: 64 });
      expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_params', field: 'image' } });
      expect(ack.error!.message).toMatch(/^image: the image does not decode: /);
      expect(ack.error!.message).toMatch(why);
    }
    const mask = await call(s, 'generate', { task: 'inpaint', prompt: 'x', image: png.toString('base64'), mask: truncated.toString('base64'), steps: 2, width: 64, height: 64 });
    expect(mask).toMatchObject({ ok: false, error: { code: 'invalid_params', field: 'mask' } });
    expect(await call(s, 'get_queue')).toMatchObject({ ok: true, queued: 0, running: null });
    // A good image still goes through.
    const ok = await call(s, 'generate', { task: 'img2img', prompt: 'x', image: png.toString('base64'), strength: 0.5, steps: 2, width: 64, height: 64 });
    expect(ok.ok).toBe(true);
    await waitFor(s, 'complete', (e: { job_id: string }) => e.job_id === ok.job_id, 60_000);
  });

  it('answers bad percent-encoding with 400 and the usual error body', async () => {
    const auth = { authorization: `Bearer ${server.token}` };
    for (const path of ['/api/images/..%c0%af', '/api/images/%E0%A4%A', '/files/images/..%c0%af?exp=1&sig=x', '/files/thumbs/%ff%fe']) {
      const res = await fetch(server.url + path, { headers: auth });
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_params', message: expect.any(String) } });
    }
  });

  it('refuses .. in an hf: repo or revision like .. in the path', async () => {
    for (const source of ['hf:../../a/b', 'hf:owner/../x.safetensors', 'hf:a/b@../x/y.safetensors', 'hf:a..b/c/d.safetensors']) {
      expect(await call(s, 'download_model', { source, type: 'checkpoint' }), source).toMatchObject({ ok: false, error: { code: 'invalid_params', field: 'source' } });
    }
    for (const revision of ['../../../x', 'main/../..', 'a..b']) {
      expect(await call(s, 'download_model', { source: 'hf:a/b/c.safetensors', type: 'checkpoint', revision }), revision).toMatchObject({
        ok: false,
        error: { code: 'invalid_params', field: 'revision' },
      });
    }
  });

  it('refuses a 30 MB /api/tokenize body from its length, before reading it', async () => {
    const started = Date.now();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/api/tokenize`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'content-length': String(30 * 1024 * 1024) } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
      // Only the first kilobyte is ever sent: a server that waits for the rest never answers.
      req.write('{"prompt":"' + 'a'.repeat(1024));
      // A server that waits for the body never answers (the rest never comes); 20 s is only for a loaded CI.
      setTimeout(() => reject(new Error('no answer: the server is reading the 30 MB body')), 20_000).unref();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_params', message: expect.stringMatching(/larger than 65536 bytes/) } });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('shows paths relative to MODELS_DIR and DATA_DIR in error messages', async () => {
    const ack = await call(s, 'generate', { prompt: 'please __missing_file__', steps: 2, width: 64, height: 64 });
    expect(ack.ok).toBe(true);
    const err = await waitFor<{ job_id: string; code: string; message: string }>(s, 'error', (e) => e.job_id === ack.job_id, 60_000);
    expect(err.code).toBe('model_not_found');
    expect(err.message).toBe('checkpoint not found: MODELS_DIR/checkpoints/missing.safetensors');
    expect(err.message).not.toContain(server.dataDir);
    const job = await call(s, 'get_job', { job_id: ack.job_id });
    expect(JSON.stringify(job)).not.toContain(server.dataDir);
  });
});

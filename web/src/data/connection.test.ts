// Connection manager against a real Socket.IO server on a loopback port (node environment).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionManager } from './connection.js';
import { EaselClientError } from './errors.js';

interface TestServer {
  http: HttpServer;
  io: Server;
  port: number;
  received: { event: string; payload: unknown }[];
}

function startTestServer(port = 0): Promise<TestServer> {
  const http = createServer();
  const io = new Server(http);
  const received: { event: string; payload: unknown }[] = [];
  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: string; client_id?: string };
    if (auth.token !== 'good') return next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', message: 'bad token' } }));
    next();
  });
  io.on('connection', (socket) => {
    socket.onAny((event: string, payload: unknown, ack?: (r: unknown) => void) => {
      received.push({ event, payload });
      if (typeof ack !== 'function') return;
      if (event === 'generate') ack({ ok: false, error: { code: 'engine_unavailable', message: 'no engine in this build' } });
      else if (event === 'get_queue') ack({ ok: true, jobs: [], queued: 0, running: null });
      else if (event === 'update_image') ack({ ok: false, error: { code: 'invalid_params', message: 'id: required', field: 'id' } });
      else ack({ ok: false, error: { code: 'rate_limited', message: 'slow down', retry_after_s: 12 } });
    });
  });
  return new Promise((resolve) => http.listen(port, '127.0.0.1', () => resolve({ http, io, port: (http.address() as AddressInfo).port, received })));
}

function stop(s: TestServer): Promise<void> {
  return new Promise((resolve) => {
    s.io.close();
    s.http.close(() => resolve());
  });
}

function waitForState(c: ConnectionManager, state: string, timeoutMs = 20_000): Promise<void> {
  if (c.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state stayed ${c.state}, wanted ${state}`)), timeoutMs);
    c.addEventListener('state', () => {
      if (c.state === state) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('ConnectionManager', () => {
  it('refuses requests before a server is configured', async () => {
    const c = new ConnectionManager();
    await expect(c.request('get_queue', {})).rejects.toMatchObject({ code: 'not_configured' });
    c.configure({ serverUrl: '', token: 'x', clientId: 'c' });
    expect(c.state).toBe('unconfigured');
  });

  it('reports a refused token as unauthorized', async () => {
    const s = await startTestServer();
    cleanups.push(() => stop(s));
    const c = new ConnectionManager({ reconnectDelayMs: 100 });
    cleanups.push(() => c.close());
    c.configure({ serverUrl: `http://127.0.0.1:${s.port}`, token: 'bad', clientId: 'c1' });
    await waitForState(c, 'unauthorized');
    expect(c.lastError?.code).toBe('unauthorized');
  });

  it('sends actions and turns error acks into coded errors', async () => {
    const s = await startTestServer();
    cleanups.push(() => stop(s));
    const c = new ConnectionManager({ reconnectDelayMs: 100 });
    cleanups.push(() => c.close());
    c.configure({ serverUrl: `http://127.0.0.1:${s.port}`, token: 'good', clientId: 'c1' });
    await waitForState(c, 'connected');
    // Re-configuring with the same server and token keeps the live connection.
    c.configure({ serverUrl: `http://127.0.0.1:${s.port}`, token: 'good', clientId: 'c1' });
    expect(c.state).toBe('connected');
    await expect(c.request('get_queue', {})).resolves.toEqual({ jobs: [], queued: 0, running: null });
    const gen = await c.request('generate', { prompt: 'x' }).catch((e: unknown) => e);
    expect(gen).toBeInstanceOf(EaselClientError);
    expect(gen).toMatchObject({ code: 'engine_unavailable' });
    await expect(c.request('update_image', { id: 'a', favorite: true })).rejects.toMatchObject({ code: 'invalid_params', field: 'id' });
    await expect(c.request('get_models', {})).rejects.toMatchObject({ code: 'rate_limited', retryAfterS: 12 });
  });

  it('queues actions while the server is away and sends them, in order, on reconnect', async () => {
    const first = await startTestServer();
    const port = first.port;
    const c = new ConnectionManager({ reconnectDelayMs: 150 });
    cleanups.push(() => c.close());
    const events: string[] = [];
    c.on('queue', (e) => events.push(`queue:${e.queued_total}`));
    c.configure({ serverUrl: `http://127.0.0.1:${port}`, token: 'good', clientId: 'c1' });
    await waitForState(c, 'connected');
    await stop(first);
    await waitForState(c, 'disconnected');

    const a = c.request('get_queue', {});
    const b = c.request('generate', { prompt: 'queued while offline' }).catch((e: unknown) => e);
    expect(c.queuedCount).toBe(2);
    await expect(c.request('get_queue', {}, { queue: false })).rejects.toMatchObject({ code: 'offline' });

    const second = await startTestServer(port);
    cleanups.push(() => stop(second));
    await waitForState(c, 'connected', 20_000);
    await expect(a).resolves.toMatchObject({ queued: 0 });
    expect(await b).toMatchObject({ code: 'engine_unavailable' });
    expect(second.received.map((r) => r.event)).toEqual(['get_queue', 'generate']);
    expect(c.queuedCount).toBe(0);

    // Subscriptions made before the reconnect still receive events.
    second.io.emit('queue', { seq: 1, jobs: [], queued_total: 3 });
    await expect.poll(() => events).toEqual(['queue:3']);
  });
});

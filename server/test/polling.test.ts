// Clients behind proxies fall back to HTTP long-polling: the server must route /socket.io/ polling
// to engine.io only (a second handler answering it crashed the process on double headers).
import { io as connectClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

describe('long-polling transport', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('connects, answers actions and keeps serving REST', async () => {
    const socket = connectClient(server.url, { auth: { token: server.token }, transports: ['polling'], reconnection: false, forceNew: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      expect(socket.io.engine.transport.name).toBe('polling');
      for (let i = 0; i < 5; i++) {
        const res = (await socket.timeout(5000).emitWithAck('get_queue', {})) as { ok: boolean };
        expect(res.ok).toBe(true);
      }
      const health = await fetch(`${server.url}/api/health`);
      expect(health.status).toBe(200);
    } finally {
      socket.close();
    }
  });
});

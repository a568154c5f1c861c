// get_starter_models over Socket.IO: the shipped catalog with what the engine (here the test
// double: generate only) can run, and `installed` once the registry lists an entry's file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StarterModel } from '../protocol/actions.js';
import { call, connect, startTestServer, type AnySocket, type TestServer } from './helpers.js';

describe('get_starter_models', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    server = await startTestServer();
    s = await connect(server.url, { token: server.token, client_id: 'starter' });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it('lists the catalog, offering only what this engine runs, and marks installed files', async () => {
    const first = await call(s, 'get_starter_models', {});
    expect(first.ok).toBe(true);
    const models = first.models as StarterModel[];
    const sd15 = models.find((m) => m.id === 'sd15')!;
    expect(sd15).toMatchObject({ available: true, installed: false, type: 'checkpoint', filename: 'v1-5-pruned-emaonly-fp16.safetensors', recommended: true });
    expect(models.find((m) => m.id === 'sdxl-base')).toMatchObject({ available: false, unavailable_reason: 'needs SDXL models, which this server cannot run yet' });
    expect(models.find((m) => m.id === 'adetailer-face')!.available).toBe(false);

    const dir = join(server.dataDir, 'models', 'checkpoints');
    mkdirSync(dir, { recursive: true });
    const header = Buffer.from('{}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(dir, 'v1-5-pruned-emaonly-fp16.safetensors'), Buffer.concat([len, header]));
    await server.models.rescan();
    const again = (await call(s, 'get_starter_models')).models as StarterModel[];
    expect(again.find((m) => m.id === 'sd15')!.installed).toBe(true);
    expect((await call(s, 'get_starter_models', { extra: 1 })).error?.code).toBe('invalid_params');
  });

  it('a broken catalog file stops the start with the entry and field at fault', async () => {
    const dir = join(server.dataDir, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'catalog.json'), JSON.stringify({ models: [{ id: 'Bad Id' }] }));
    // Its data folder sits inside this server's, which dispose removes.
    await expect(startTestServer({ STARTER_MODELS: join(dir, 'catalog.json') }, { dataDir: join(dir, 'data') })).rejects.toThrow(/models\.0\.id/);
  });
});

// Downloads through the real server: download_model queues on the IO lane, every client sees
// `download:progress` (bytes, total, speed, ETA) up to `completed`, `models:changed` follows and
// the model is listed by get_models and GET /api/models (which needs the token); cancel_download
// stops a transfer; a failure reaches clients with its code.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { io as connectClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../native/io/safetensors.js';
import type { DownloadProgressEvent, ModelEntry } from '../../protocol/index.js';
import { call, collect, connect, startTestServer, waitFor, type AnySocket, type TestServer } from '../../test/helpers.js';
import { FakeHost, fixtureJson } from './fake-hosts.js';

function loraBytes(floats: number): Buffer {
  const { bytes } = encodeHeader([{ name: 'lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight', dtype: 'F32', shape: [floats] }], { ss_output_name: 'sock' });
  const data = new Float32Array(floats).map((_, i) => Math.cos(i));
  return Buffer.concat([Buffer.from(bytes), Buffer.from(data.buffer)]);
}

describe('downloads over Socket.IO and REST', () => {
  let host: FakeHost;
  let server: TestServer;
  let a: AnySocket;
  let b: AnySocket;
  const LORA = loraBytes(50_000);
  const sha = createHash('sha256').update(LORA).digest('hex');

  beforeAll(async () => {
    host = await FakeHost.start();
    server = await startTestServer({ ALLOW_PRIVATE_DOWNLOADS: 'true', HF_ENDPOINT: host.base, CIVITAI_ENDPOINT: host.base });
    a = await connect(server.url, { token: server.token, client_id: 'client-a' });
    b = await connect(server.url, { token: server.token, client_id: 'client-b' });
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await server?.dispose();
    await host?.close();
  });

  it('downloads hf:…, shows progress to every client, then models:changed and the listing', async () => {
    host.json('/api/models/me/loras/paths-info/main', fixtureJson('hf-paths-info.json', { SHA256: sha, SIZE: LORA.length, PATH: 'sock.safetensors' }), 'POST');
    host.bytes('/me/loras/resolve/main/sock.safetensors', LORA, { trickle: { chunk: 25_000, delayMs: 100 } });
    const seenByB = collect<DownloadProgressEvent>(b, 'download:progress');
    const changed = waitFor(b, 'models:changed');
    const done = waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.status === 'completed' || e.status === 'failed');
    const ack = await call(a, 'download_model', { source: 'hf:me/loras/sock.safetensors', type: 'lora' });
    expect(ack).toMatchObject({ ok: true, job_id: expect.stringMatching(/^dl_[A-Za-z0-9]+$/) });
    const final = await done;
    expect(final).toMatchObject({ job_id: ack.job_id, status: 'completed', name: 'sock.safetensors', type: 'lora', received_bytes: LORA.length, total_bytes: LORA.length });
    await changed;
    const mine = seenByB.filter((e) => e.job_id === ack.job_id);
    expect(mine[0]!.status).toBe('queued');
    const running = mine.filter((e) => e.status === 'running' && e.received_bytes > 0 && e.received_bytes < LORA.length);
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((e) => (e.speed_bps ?? 0) > 0 && typeof e.eta_s === 'number')).toBe(true);

    const listed = await call(a, 'get_models', { type: 'lora' });
    const entry = (listed.models as ModelEntry[]).find((m) => m.name === 'sock.safetensors');
    expect(entry).toMatchObject({ type: 'lora', size_bytes: LORA.length, family: 'sd1', metadata: { output_name: 'sock' } });
    await server.models.idle();
    const hashed = ((await call(a, 'get_models', { type: 'lora' })).models as ModelEntry[]).find((m) => m.name === 'sock.safetensors');
    expect(hashed).toMatchObject({ sha256: sha, short_hash: sha.slice(0, 10) });
  });

  it('serves the same entries at GET /api/models behind the token', async () => {
    expect((await fetch(`${server.url}/api/models`)).status).toBe(401);
    const res = await fetch(`${server.url}/api/models?type=lora`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: ModelEntry[] };
    const viaSocket = await call(a, 'get_models', { type: 'lora' });
    expect(body.models).toEqual(viaSocket.models);
    expect(body.models.map((m) => m.name)).toContain('sock.safetensors');
    const bad = await fetch(`${server.url}/api/models?type=weird`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('type');
  });

  it('cancel_download stops a running transfer; unknown ids are not_found', async () => {
    host.json('/api/v1/model-versions/4567', fixtureJson('civitai-model-version.json', { BASE: host.base, SHA256: sha, AUTOV2: sha.slice(0, 10) }));
    host.bytes('/api/download/models/4567', LORA, { trickle: { chunk: 4096, delayMs: 50 } });
    const ack = await call(a, 'download_model', { source: 'civitai:4567', type: 'lora' });
    await waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.job_id === ack.job_id && e.received_bytes > 0);
    const ended = waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.job_id === ack.job_id && e.status !== 'running');
    expect(await call(b, 'cancel_download', { job_id: ack.job_id })).toMatchObject({ ok: true, status: 'cancelling' });
    expect(await ended).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    const loras = readdirSync(join(server.config.modelsDir, 'loras'));
    expect(loras.filter((f) => f.includes('tiny_detail'))).toEqual([]);
    expect((await call(a, 'cancel_download', { job_id: 'dl_nope' })).error).toMatchObject({ code: 'not_found', field: 'job_id' });
  });

  it('tells a client that connects mid-download where the download stands at once', async () => {
    host.json('/api/models/me/loras/paths-info/main', fixtureJson('hf-paths-info.json', { SHA256: sha, SIZE: LORA.length, PATH: 'late.safetensors' }), 'POST');
    // A long pause after each chunk: no progress tick can reach the late client in time on its own.
    host.bytes('/me/loras/resolve/main/late.safetensors', LORA, { trickle: { chunk: 4096, delayMs: 4000 } });
    const ack = await call(a, 'download_model', { source: 'hf:me/loras/late.safetensors', type: 'lora' });
    await waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.job_id === ack.job_id && e.received_bytes > 0);
    // Listen before connecting, so the events sent on connection cannot be missed.
    const late = connectClient(server.url, { auth: { token: server.token, client_id: 'client-late' }, transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    const first = new Promise<DownloadProgressEvent>((res) => late.once('download:progress', res));
    const connectedAt = Date.now();
    late.connect();
    try {
      const got = await first;
      expect(got).toMatchObject({ job_id: ack.job_id, status: 'running', name: 'late.safetensors' });
      expect(got.received_bytes).toBeGreaterThan(0);
      // Sent with the connection, well before the next throttled (250 ms) progress tick would be.
      expect(Date.now() - connectedAt).toBeLessThan(2000);
    } finally {
      late.close();
    }
    const ended = waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.job_id === ack.job_id && e.status !== 'running');
    await call(a, 'cancel_download', { job_id: ack.job_id });
    await ended;
  });

  it('reports a failed download with its code', async () => {
    host.json('/api/v1/model-versions/777', fixtureJson('civitai-model-version.json', { BASE: `${host.base}/bad`, SHA256: 'e'.repeat(64), AUTOV2: 'E'.repeat(10) }));
    host.bytes('/bad/api/download/models/4567', LORA);
    const ended = waitFor<DownloadProgressEvent>(a, 'download:progress', (e) => e.status === 'failed');
    const ack = await call(a, 'download_model', { source: 'civitai:777', type: 'lora' });
    expect(await ended).toMatchObject({ job_id: ack.job_id, error: { code: 'checksum_mismatch' } });
    expect(existsSync(join(server.config.modelsDir, 'loras', 'tiny_detail_v1.safetensors'))).toBe(false);
  });
});

// The REST job API against the test-double worker: POST /api/jobs answers at once with the same
// validation messages as the socket, GET and DELETE by id, server-sent events with progress,
// previews and the result, a reconnect with Last-Event-ID in the middle of a job that misses
// nothing, the same per-client action limit as the socket, and the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, stepUpdates, type TestServer } from './helpers.js';
import type { ProgressEvent } from '../protocol/events.js';

interface SseEvent {
  id?: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads an SSE stream with fetch; `until` decides when to stop reading (then the connection is dropped). */
async function readSse(url: string, headers: Record<string, string>, until: (e: SseEvent, all: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buf += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const e: Partial<SseEvent> = {};
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) e.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (!e.event) continue;
        const ev = { ...e, data: JSON.parse(data) as Record<string, unknown> } as SseEvent;
        events.push(ev);
        if (until(ev, events)) return events;
      }
    }
  } finally {
    controller.abort();
  }
}

const isEnd = (e: SseEvent): boolean => e.event === 'job:status' && ['completed', 'failed', 'cancelled'].includes(String(e.data.status));

describe('REST job API with server-sent events', () => {
  let server: TestServer;
  let auth: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ PREVIEW_EVERY: '2', RATE_LIMIT_POINTS: '30' }, { fakeEnv: { FAKE_STEP_MS: '30' } });
    auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const postJob = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { ...auth, ...headers }, body: JSON.stringify(body) });

  it('needs the token', async () => {
    expect((await fetch(`${server.url}/api/jobs`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${server.url}/api/events`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/openapi.json`)).status).toBe(401);
  });

  it('refuses bad parameters with the socket\'s own messages, and queues nothing', async () => {
    const socket = await connect(server.url, { token: server.token, client_id: 'cmp' });
    try {
      for (const bad of [{ width: 1001 }, { promt: 'typo' }, { sampler: 'nope' }, { steps: 0 }]) {
        const res = await postJob(bad);
        expect(res.status).toBe(400);
        const { error } = (await res.json()) as { error: { code: string; message: string; field: string } };
        const ack = await call(socket, 'generate', bad);
        expect(error).toEqual(ack.error);
      }
      const kind = await postJob({ kind: 'paint' });
      expect(kind.status).toBe(400);
      expect(((await kind.json()) as { error: { field: string } }).error.field).toBe('kind');
      // upscale is gated by the worker's capability, exactly as over the socket.
      const up = await postJob({ kind: 'upscale', image_id: 'abc', upscaler: 'x' });
      expect(up.status).toBe(503);
      expect(((await up.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable');
    } finally {
      socket.close();
    }
    expect(server.queue.queuedCount).toBe(0);
  });

  it('queues a job at once, streams progress, previews and the result, and GET shows it', async () => {
    const res = await postJob({ prompt: 'rest', steps: 6, width: 64, height: 64, seed: 3 });
    expect(res.status).toBe(202);
    const { job_id, position } = (await res.json()) as { job_id: string; position: number };
    expect(res.headers.get('location')).toBe(`/api/jobs/${job_id}`);
    expect(position).toBeGreaterThanOrEqual(0);
    // Opened after the job started: the per-job stream replays what it missed, then follows, then ends.
    const events = await readSse(`${server.url}/api/jobs/${job_id}/events`, auth, () => false);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('job:status');
    expect(names).toContain('queued');
    expect(stepUpdates(events.filter((e) => e.event === 'progress').map((e) => e.data as unknown as ProgressEvent)).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const preview = events.find((e) => e.event === 'preview')!;
    expect(Buffer.from(String(preview.data.data), 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const complete = events.find((e) => e.event === 'complete')!;
    expect(complete.data).toMatchObject({ job_id, images: [expect.objectContaining({ url: expect.stringContaining('/files/images/'), seed: 3 })] });
    expect(isEnd(events[events.length - 1]!)).toBe(true);
    const ids = events.map((e) => e.id!);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const got = (await (await fetch(`${server.url}/api/jobs/${job_id}`, { headers: auth })).json()) as { job: Record<string, unknown> };
    expect(got.job).toMatchObject({ job_id, status: 'completed', position: null, images: [expect.objectContaining({ seed: 3 })] });
    expect((await fetch(`${server.url}/api/jobs/nope`, { headers: auth })).status).toBe(404);
  });

  it('resumes with Last-Event-ID mid-job and misses nothing', async () => {
    const { job_id } = (await (await postJob({ steps: 20, width: 64, height: 64 })).json()) as { job_id: string };
    // A reference stream that never drops.
    const full = readSse(`${server.url}/api/jobs/${job_id}/events`, auth, () => false);
    // A client that drops after its third progress event...
    const first = await readSse(`${server.url}/api/jobs/${job_id}/events`, auth, (_e, all) => all.filter((x) => x.event === 'progress').length === 3);
    const lastId = first[first.length - 1]!.id!;
    await new Promise((r) => setTimeout(r, 150)); // events go on while it is away
    // ...and comes back with Last-Event-ID, as EventSource does.
    const rest = await readSse(`${server.url}/api/jobs/${job_id}/events`, { ...auth, 'last-event-id': String(lastId) }, () => false);
    const reference = await full;
    expect(rest[0]!.id).toBeGreaterThan(lastId);
    expect([...first, ...rest].map((e) => `${e.id} ${e.event}`)).toEqual(reference.map((e) => `${e.id} ${e.event}`));
    expect(stepUpdates(reference.filter((e) => e.event === 'progress').map((e) => e.data as unknown as ProgressEvent))).toHaveLength(20);
  });

  it('streams every job of a client on /api/events, resumable too', async () => {
    const headers = { ...auth, 'x-client-id': 'rest-client' };
    const stream = readSse(`${server.url}/api/events`, headers, (e) => e.event === 'complete');
    await new Promise((r) => setTimeout(r, 50));
    const { job_id } = (await (await postJob({ steps: 3, width: 64, height: 64 }, { 'x-client-id': 'rest-client' })).json()) as { job_id: string };
    const events = await stream;
    expect(events.every((e) => e.data.job_id === job_id)).toBe(true);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['queued', 'progress', 'complete']));
    // From an id in the middle, the rest again.
    const mid = events[1]!.id!;
    const again = await readSse(`${server.url}/api/events`, { ...headers, 'last-event-id': String(mid) }, (e) => e.event === 'complete');
    expect(again.map((e) => e.id)).toEqual(events.filter((e) => e.id! > mid).map((e) => e.id));
  });

  it('cancels a running job with DELETE; the stream ends with cancelled', async () => {
    const { job_id } = (await (await postJob({ steps: 100, width: 64, height: 64 })).json()) as { job_id: string };
    const stream = readSse(`${server.url}/api/jobs/${job_id}/events`, auth, () => false);
    await new Promise((r) => setTimeout(r, 200));
    const del = await fetch(`${server.url}/api/jobs/${job_id}`, { method: 'DELETE', headers: auth });
    expect(await del.json()).toEqual({ job_id, status: 'cancelling' });
    const events = await stream;
    expect(events[events.length - 1]!.data).toMatchObject({ job_id, status: 'cancelled' });
    expect(events.filter((e) => e.event === 'progress').length).toBeLessThan(100);
    expect((await fetch(`${server.url}/api/jobs/${job_id}`, { method: 'DELETE', headers: auth })).status).toBe(409);
  });

  it('describes its routes in /api/openapi.json with the generate schema', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`, { headers: auth })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { oneOf: { properties: Record<string, unknown> }[] } }> } }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/events', '/api/events']));
    const generate = doc.paths['/api/jobs']!.post!.requestBody!.content['application/json']!.schema.oneOf[0]!;
    expect(generate.properties).toHaveProperty('prompt');
    expect(generate.properties).toHaveProperty('cfg_scale');
    expect(generate.properties).toHaveProperty('kind');
  });

  it('takes a point from the same per-client action limit as the socket', async () => {
    const headers = { 'x-client-id': 'limited' };
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await postJob({ steps: 0 }, headers);
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });
});

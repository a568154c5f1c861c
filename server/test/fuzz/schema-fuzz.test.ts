// Property-based fuzzing of every Socket.IO action and REST route from their zod schemas: the
// action list and schemas come from server/protocol (a new action is fuzzed as soon as it exists),
// payloads are generated from each schema's JSON Schema and then broken on purpose. Every answer
// must be a valid result or an error with a stable code (never `internal`), and after each batch
// the server must still answer its health check and a `get_queue`. The seed is random per run and
// printed on failure; FUZZ_SEED=<n> replays a run.
import fc, { type Arbitrary } from 'fast-check';
import sharp from 'sharp';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../protocol/errors.js';
import { ACTION_NAMES, makeActionSchemas } from '../../protocol/actions.js';
import { GalleryQuerySchema, PngInfoRequestSchema, ZipImagesSchema, imageIdSchema } from '../../protocol/gallery.js';
import { TokenizeSchema } from '../../http/tokenize.js';
import { ModelsQuerySchema } from '../../http/models.js';
import { call, connect, startTestServer, type AckResult, type AnySocket, type TestServer } from '../helpers.js';
import { payloadArbitrary } from './schema-arbitrary.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Socket payloads in all (spread over the actions) and REST requests: at least 10,000 together. */
const SOCKET_PAYLOADS = 9000;
const REST_REQUESTS = 1200;
const BATCH = 100;
const CODES = new Set<string>(ERROR_CODES);

const replay = (what: string, payload: unknown, answer: unknown): Error =>
  new Error(
    `fuzz failure (replay with FUZZ_SEED=${SEED}) on ${what}\npayload: ${JSON.stringify(payload, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))?.slice(0, 600)}\nanswer: ${JSON.stringify(answer)?.slice(0, 400)}`,
  );

/** Real, truncated and garbage images (bytes and base64), for the fields JSON Schema cannot describe. */
async function imageValues(): Promise<Arbitrary<unknown>> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toBuffer();
  const jpeg = await sharp({ create: { width: 32, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
  const truncated = png.subarray(0, png.length - 20);
  const garbage = Buffer.concat([png.subarray(0, 33), Buffer.alloc(300, 0x41)]);
  const values = [png, jpeg, truncated, garbage].flatMap((b) => [new Uint8Array(b), b.toString('base64'), `data:image/png;base64,${b.toString('base64')}`]);
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 1, withTypedArray: true, withBigInt: false }) });
}

describe('schema fuzz', () => {
  let server: TestServer;
  let s: AnySocket;
  let opaque: Arbitrary<unknown>;
  const seenCodes = new Map<string, number>();
  let oks = 0;

  beforeAll(async () => {
    opaque = await imageValues();
    server = await startTestServer(
      {
        RATE_LIMIT_POINTS: '1000000',
        REST_RATE_LIMIT: '1000000',
        MAX_QUEUE: '4',
        // Download sources resolve against loopback ports nobody listens on (refused, never fetched).
        HF_ENDPOINT: 'http://127.0.0.1:9',
        CIVITAI_ENDPOINT: 'http://127.0.0.1:9',
      },
      { fakeEnv: { FAKE_STEP_MS: '100' } },
    );
    s = await connect(server.url, { token: server.token, client_id: 'fuzzer' });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  async function assertAlive(): Promise<void> {
    const health = await fetch(`${server.url}/api/health`);
    if (health.status !== 200) throw replay('health after a batch', null, health.status);
    const q = await call(s, 'get_queue');
    if (!q.ok || !s.connected) throw replay('get_queue after a batch', null, q);
  }

  it(`answers ${SOCKET_PAYLOADS} generated payloads over Socket.IO with results or coded errors (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const schemas = makeActionSchemas();
    const perAction = Math.ceil(SOCKET_PAYLOADS / ACTION_NAMES.length);
    for (const [i, action] of ACTION_NAMES.entries()) {
      const arb = payloadArbitrary(schemas[action] as unknown as z.ZodType, { opaque });
      const payloads = fc.sample(arb, { numRuns: perAction, seed: SEED + i });
      for (let b = 0; b < payloads.length; b += BATCH) {
        const batch = payloads.slice(b, b + BATCH);
        const acks: AckResult[] = await Promise.all(batch.map((p) => call(s, action, p)));
        acks.forEach((ack, j) => {
          if (ack.ok === true) return void oks++;
          const code = ack.error?.code;
          if (ack.ok !== false || !code || !CODES.has(code) || code === 'internal' || typeof ack.error?.message !== 'string') throw replay(action, batch[j], ack);
          seenCodes.set(code, (seenCodes.get(code) ?? 0) + 1);
        });
        await assertAlive();
      }
    }
    // The fuzzer reached past validation, and validation refused what it had to.
    expect(oks).toBeGreaterThan(SOCKET_PAYLOADS / 20);
    expect(seenCodes.get('invalid_params') ?? 0).toBeGreaterThan(SOCKET_PAYLOADS / 10);
    // Leave nothing running for the next test.
    for (const j of ((await call(s, 'get_queue')).jobs as { job_id: string; status: string }[]).filter((x) => x.status === 'queued' || x.status === 'running')) await call(s, 'cancel', { job_id: j.job_id });
  });

  it(`answers ${REST_REQUESTS} generated REST requests with results or coded errors (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const auth = { authorization: `Bearer ${server.token}` };
    const query = (v: unknown): string => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return `?junk=${encodeURIComponent(String(v))}`;
      const q = new URLSearchParams();
      for (const [k, x] of Object.entries(v)) q.append(k, typeof x === 'string' ? x : JSON.stringify(x) ?? '');
      return `?${q.toString()}`;
    };
    // Path segments: valid ids, random text (encoded), and raw bytes that are not valid percent-encoding.
    const segment = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constantFrom('..%c0%af', '%E0%A4%A', '%ff', '%2e%2e%2f', '..', '%00'));
    const body = (schema: z.ZodType) => payloadArbitrary(schema, { opaque: opaque.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)) });
    type Req = { method: string; path: string; body?: unknown };
    const routes: Arbitrary<Req>[] = [
      body(GalleryQuerySchema).map((v) => ({ method: 'GET', path: `/api/images${query(v)}` })),
      segment.map((id) => ({ method: 'GET', path: `/api/images/${id}` })),
      segment.map((id) => ({ method: 'DELETE', path: `/api/images/${id}` })),
      body(ZipImagesSchema).map((v) => ({ method: 'POST', path: '/api/images/zip', body: v })),
      body(PngInfoRequestSchema).map((v) => ({ method: 'POST', path: '/api/png-info', body: v })),
      body(TokenizeSchema).map((v) => ({ method: 'POST', path: '/api/tokenize', body: v })),
      body(ModelsQuerySchema).map((v) => ({ method: 'GET', path: `/api/models${query(v)}` })),
      fc.constant({ method: 'GET', path: '/api/info' }),
      fc.tuple(fc.constantFrom('images', 'thumbs'), segment, fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })).map(([kind, id, exp, sig]) => ({
        method: 'GET',
        path: `/files/${kind}/${id}?exp=${encodeURIComponent(exp)}&sig=${encodeURIComponent(sig)}`,
      })),
      fc.tuple(segment, fc.anything({ maxDepth: 2, withBigInt: false })).map(([p, b]) => ({ method: 'POST', path: `/api/${p}`, body: b })),
      body(imageIdSchema.transform((x) => x) as unknown as z.ZodType).map((v) => ({ method: 'PATCH', path: `/api/images/${encodeURIComponent(String(v))}`, body: v })),
    ];
    const requests = fc.sample(fc.oneof(...routes), { numRuns: REST_REQUESTS, seed: SEED ^ 0x5eed });
    const statuses = new Map<number, number>();
    for (let b = 0; b < requests.length; b += BATCH) {
      const batch = requests.slice(b, b + BATCH);
      await Promise.all(
        batch.map(async (r) => {
          const res = await fetch(server.url + r.path, {
            method: r.method,
            headers: { ...auth, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(r.body !== undefined ? { body: JSON.stringify(r.body) ?? 'null' } : {}),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const text = await res.text();
          if (res.status < 400) return;
          let parsed: { error?: { code?: string; message?: unknown } } | undefined;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            throw replay(`${r.method} ${r.path}`, r.body, `${res.status} ${text.slice(0, 200)}`);
          }
          const code = parsed?.error?.code;
          if (!code || !CODES.has(code) || code === 'internal' || res.status >= 500 && ![501, 503, 507].includes(res.status)) throw replay(`${r.method} ${r.path}`, r.body, `${res.status} ${text.slice(0, 200)}`);
        }),
      );
      await assertAlive();
    }
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  });
});

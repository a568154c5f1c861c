// Fuzz: at least 1,000 random and malformed payloads to every action. The server never crashes,
// every reply is an error ack, and it still serves (and generates) afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ERROR_CODES } from '../protocol/errors.js';
import { ACTION_NAMES } from '../protocol/actions.js';
import { call, connect, startTestServer, waitFor, type AnySocket, type TestServer } from './helpers.js';

const PER_ACTION = 1000;
const BATCH = 100;

// Real field names of the actions, so the fuzzer reaches the field validators too.
const FIELDS = ['prompt', 'negative_prompt', 'width', 'height', 'steps', 'sampler', 'scheduler', 'seed', 'batch_size', 'n_iter', 'image', 'mask', 'loras', 'task', 'hires', 'job_id', 'ids', 'id', 'favorite', 'image_id', 'upscaler', 'scale', 'source', 'type', 'filename', 'limit', 'cursor', 'search', 'priority', 'style', 'detector'];

/** Payloads that can never be valid for any action: not an object, or an object with an unknown field. */
const malformed = fc.oneof(
  fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 })), fc.uint8Array({ maxLength: 64 })),
  fc
    .tuple(
      fc.dictionary(fc.constantFrom(...FIELDS), fc.anything({ maxDepth: 3, withTypedArray: true, withSparseArray: true, withBigInt: false }), { maxKeys: 6 }),
      fc.string({ minLength: 1, maxLength: 12 }),
      // JSON drops undefined values, which would make the unknown field vanish in transit.
      fc.anything({ maxDepth: 2 }).filter((v) => v !== undefined),
    )
    .map(([known, suffix, value]) => ({ ...known, [`zz_unknown_${suffix}`]: value })),
);

describe('fuzz', () => {
  let server: TestServer;
  let s: AnySocket;

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_POINTS: '1000000' }, { fakeEnv: { FAKE_STEP_MS: '5' } });
    s = await connect(server.url, { token: server.token });
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
  });

  it(`answers ${PER_ACTION} malformed payloads per action with error acks`, { timeout: 400_000 }, async () => {
    const seen = new Set<string>();
    for (const action of ACTION_NAMES) {
      const payloads = fc.sample(malformed, { numRuns: PER_ACTION, seed: 0xea5e1 + action.length });
      for (let i = 0; i < payloads.length; i += BATCH) {
        const acks = await Promise.all(payloads.slice(i, i + BATCH).map((p) => call(s, action, p)));
        acks.forEach((ack, j) => {
          if (ack.ok !== false || !ack.error || !(ERROR_CODES as readonly string[]).includes(ack.error.code)) {
            throw new Error(`${action} accepted or mis-answered ${JSON.stringify(payloads[i + j])?.slice(0, 300)}: ${JSON.stringify(ack)}`);
          }
          seen.add(ack.error.code);
        });
      }
    }
    expect(seen).toContain('invalid_params');
    expect(seen).not.toContain('internal');
  });

  it('answers random unknown events carrying an ack', async () => {
    const names = fc.sample(fc.string({ minLength: 1, maxLength: 20 }), { numRuns: 200, seed: 7 });
    const acks = await Promise.all(names.map((n) => call(s, `zz_${n}`, { any: n })));
    expect(acks.every((a) => a.ok === false && a.error?.code === 'unknown_action')).toBe(true);
  });

  it('still serves afterwards: queue, health, a real job', async () => {
    expect(await call(s, 'get_queue')).toMatchObject({ ok: true, queued: 0 });
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const job = await call(s, 'generate', { prompt: 'after the storm', steps: 2, width: 64, height: 64 });
    expect(job.ok).toBe(true);
    const done = await waitFor<{ job_id: string; images: unknown[] }>(s, 'complete', (e) => e.job_id === job.job_id);
    expect(done.images).toHaveLength(1);
    expect(s.connected).toBe(true);
  });
});

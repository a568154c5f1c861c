import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { EaselError } from '../protocol/errors.js';
import { ActionSchemas } from '../protocol/actions.js';
import { registerActions, runAction, type ActionHandlers, type ActionSocket, type AckOptions } from './ack.js';

const logger = pino({ level: 'silent' });

function options(over: Partial<ActionHandlers> = {}, limit: AckOptions['limit'] = async () => {}): AckOptions {
  const fail = () => {
    throw new Error('handler should not run');
  };
  const handlers = new Proxy(over, { get: (t, k: string) => (t as Record<string, unknown>)[k] ?? fail }) as ActionHandlers;
  return { schemas: ActionSchemas, handlers, ctx: { clientId: 'c', socketId: 's' }, logger, limit };
}

/** A fake socket that records listeners so the test can call them as Socket.IO would. */
function fakeSocket() {
  const listeners = new Map<string, (...a: unknown[]) => void>();
  let any: ((event: string, ...a: unknown[]) => void) | undefined;
  const socket: ActionSocket = {
    on: (e, l) => listeners.set(e, l),
    onAny: (l) => {
      any = l;
    },
  };
  const emit = (event: string, ...args: unknown[]) => {
    any?.(event, ...args);
    listeners.get(event)?.(...args);
  };
  return { socket, emit };
}

describe('ack wrapper', () => {
  it('validates before calling the handler and names the field', async () => {
    const res = await runAction('cancel', { job_id: 42 }, options());
    expect(res).toEqual({ ok: false, error: { code: 'invalid_params', message: expect.stringContaining('job_id'), field: 'job_id' } });
  });

  it('passes parsed payloads and spreads the result into the ack', async () => {
    const res = await runAction('cancel', { job_id: 'abc' }, options({ cancel: (p) => ({ job_id: p.job_id, status: 'cancelled' }) }));
    expect(res).toEqual({ ok: true, job_id: 'abc', status: 'cancelled' });
  });

  it('turns thrown EaselErrors into error acks and hides other errors', async () => {
    const nf = await runAction('cancel', { job_id: 'x' }, options({ cancel: () => { throw new EaselError('not_found', 'no job x', { field: 'job_id' }); } }));
    expect(nf).toEqual({ ok: false, error: { code: 'not_found', message: 'no job x', field: 'job_id' } });
    const boom = await runAction('cancel', { job_id: 'x' }, options({ cancel: () => { throw new TypeError('secret internals'); } }));
    expect(boom).toEqual({ ok: false, error: { code: 'internal', message: 'internal error' } });
  });

  it('refuses when the limiter says so, with a retry time', async () => {
    const limited = options({}, async () => {
      throw new EaselError('rate_limited', 'too many actions; retry in 7 s', { retryAfterS: 7 });
    });
    expect(await runAction('get_queue', undefined, limited)).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String), retry_after_s: 7 } });
  });

  it('survives a missing or throwing ack and answers unknown actions', async () => {
    let ran = 0;
    const { socket, emit } = fakeSocket();
    registerActions(socket, options({ get_queue: () => { ran++; return { jobs: [], queued: 0, running: null }; } }));
    emit('get_queue');
    emit('get_queue', {}, () => {
      throw new Error('client bug');
    });
    const acks: unknown[] = [];
    emit('get_queue', (r: unknown) => acks.push(r));
    emit('no_such_action', { a: 1 }, (r: unknown) => acks.push(r));
    await new Promise((r) => setTimeout(r, 10));
    expect(ran).toBe(3);
    expect(acks).toContainEqual({ ok: true, jobs: [], queued: 0, running: null });
    expect(acks).toContainEqual({ ok: false, error: { code: 'unknown_action', message: 'unknown action "no_such_action"', field: '(event)' } });
  });
});

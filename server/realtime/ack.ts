// The one wrapper every Socket.IO action goes through: takes a rate-limit point, validates the
// payload with the action's schema, runs the handler, and answers the ack with `{ ok: true, ... }`
// or `{ ok: false, error }`. No exception escapes; a missing ack callback is tolerated.
import type { Logger } from 'pino';
import type { z } from 'zod';
import { EaselError, isEaselError, zodToEaselError, type Ack, type WireError } from '../protocol/errors.js';
import type { ActionName, ActionPayload, ActionResults, ActionSchemas } from '../protocol/actions.js';

/** The bits of a socket the wrapper needs (kept loose so it works on any typed Socket). */
export interface ActionSocket {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
}

export interface ActionContext {
  clientId: string;
  socketId: string;
}

export type ActionHandler<A extends ActionName> = (payload: ActionPayload<A>, ctx: ActionContext) => Promise<ActionResults[A]> | ActionResults[A];
export type ActionHandlers = { [A in ActionName]: ActionHandler<A> };

export interface AckOptions {
  schemas: ActionSchemas;
  handlers: ActionHandlers;
  ctx: ActionContext;
  logger: Logger;
  /** Called before validation; throws `rate_limited` to refuse. */
  limit: (ctx: ActionContext) => Promise<void>;
  /** Turns an unexpected failure into a coded one when it can (a full disk: `insufficient_space`). */
  mapError?: (err: unknown) => EaselError | undefined;
  /** After validation, before the handler: deeper checks of the payload (init images decode). */
  verify?: (name: ActionName, payload: unknown) => Promise<void>;
  /** Rewrites error messages before they leave (server paths relative to DATA_DIR / MODELS_DIR). */
  redact?: (text: string) => string;
}

type AnyAck = (res: Ack<object>) => void;

/** Splits Socket.IO listener args into (payload, ack): the ack is the last argument when it is a function. */
function splitArgs(args: readonly unknown[]): { payload: unknown; ack: AnyAck | undefined } {
  const last = args[args.length - 1];
  const ack = typeof last === 'function' ? (last as AnyAck) : undefined;
  const rest = ack ? args.slice(0, -1) : args;
  return { payload: rest[0], ack };
}

function toWire(err: unknown, logger: Logger, action: string, mapError?: (err: unknown) => EaselError | undefined): WireError {
  if (isEaselError(err)) return err.toWire();
  const mapped = mapError?.(err);
  if (mapped) return mapped.toWire();
  logger.error({ err, action }, 'action failed');
  return { code: 'internal', message: 'internal error' };
}

/**
 * Runs one action end to end and returns the ack value (exported for unit tests).
 */
export async function runAction<A extends ActionName>(name: A, payload: unknown, opts: AckOptions): Promise<Ack<ActionResults[A]>> {
  try {
    await opts.limit(opts.ctx);
    const schema = opts.schemas[name] as unknown as z.ZodType<ActionPayload<A>>;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw zodToEaselError(parsed.error);
    await opts.verify?.(name, parsed.data);
    const result = await opts.handlers[name](parsed.data, opts.ctx);
    return { ok: true, ...result };
  } catch (err) {
    const error = toWire(err, opts.logger, name, opts.mapError);
    if (opts.redact) error.message = opts.redact(error.message);
    return { ok: false, error };
  }
}

/** Registers every action on a socket, and answers unknown events that carry an ack. */
export function registerActions(socket: ActionSocket, opts: AckOptions): void {
  const names = Object.keys(opts.schemas) as ActionName[];
  for (const name of names) {
    socket.on(name, (...args: unknown[]) => {
      const { payload, ack } = splitArgs(args);
      void runAction(name, payload, opts).then((res) => {
        try {
          ack?.(res);
        } catch (err) {
          opts.logger.warn({ err, action: name }, 'ack callback threw');
        }
      });
    });
  }
  const known = new Set<string>(names);
  socket.onAny((event: string, ...args: unknown[]) => {
    if (known.has(event)) return;
    const { ack } = splitArgs(args);
    // Unknown events cost a point too, so they cannot be used to flood the server for free.
    void opts
      .limit(opts.ctx)
      .then(() => new EaselError('unknown_action', `unknown action "${String(event).slice(0, 64)}"`, { field: '(event)' }))
      .catch((err: unknown) => (isEaselError(err) ? err : new EaselError('internal', 'internal error')))
      .then((error) => {
        try {
          ack?.({ ok: false, error: error.toWire() });
        } catch {
          // A throwing client callback is the client's problem; the server goes on.
        }
      });
  });
}

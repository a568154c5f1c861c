// The Socket.IO server: origin check, token + per-IP connection limit at the handshake, a room per
// client id (so a reconnecting client sees its jobs again), every action through the ack wrapper,
// and the Broadcaster the job runner and the queue push events through.
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Logger } from 'pino';
import { EaselError, isEaselError } from '../protocol/errors.js';
import type { ActionSchemas } from '../protocol/actions.js';
import type { ClientToServerEvents, ServerStatusEvent, ServerToClientEvents } from '../protocol/index.js';
import { consume, type RateLimits } from '../security/rate-limits.js';
import { tokenFromAuthorization, tokensEqual } from '../security/token.js';
import { clientAddress, proxyTrust, type ProxyTrust } from '../security/client-ip.js';
import type { Broadcaster } from '../jobs/job-runner.js';
import type { QueueEntry } from '../jobs/job-queue.js';
import type { Job } from '../jobs/job.js';
import { registerActions, type ActionSocket } from './ack.js';
import { jobHandlers } from './job-handlers.js';
import { galleryHandlers } from './gallery-handlers.js';
import { modelHandlers } from './model-handlers.js';
import { driveHandlers } from './drive-handlers.js';
import { controlNetHandlers } from './controlnet-handlers.js';
import type { HandlerDeps } from './ports.js';

interface SocketData {
  clientId: string;
  /** The client's address by the one rule of security/client-ip.ts (action and connection limits). */
  address: string;
}

export type EaselServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type EaselSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const clientRoom = (clientId: string): string => `client:${clientId}`;

/** Is this request's Origin allowed: no Origin (non-browser), same host, or a configured origin. */
export function originAllowed(req: Pick<IncomingMessage, 'headers'>, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const LOOPBACK_TRUST = proxyTrust(['loopback']);

/**
 * The address to rate-limit, by the same rule as REST (security/client-ip.ts): the right-most
 * X-Forwarded-For hop that is not a trusted proxy, or CF-Connecting-IP from the local tunnel.
 */
export function clientIp(address: string, headers: Record<string, string | string[] | undefined>, trust: ProxyTrust = LOOPBACK_TRUST): string {
  return clientAddress(address, headers, trust);
}

export interface SocketServerOptions {
  token: string;
  corsOrigins: readonly string[];
  maxHttpBufferSize: number;
  limits: RateLimits;
  schemas: ActionSchemas;
  logger: Logger;
  /** Which peers may report the client's address (TRUSTED_PROXIES); default: loopback. */
  proxyTrust?: ProxyTrust;
  /** Classifies an action's unexpected failure (a full disk becomes `insufficient_space`). */
  mapError?: (err: unknown) => EaselError | undefined;
  /** Deeper payload checks after validation (images that do not decode are refused at submit). */
  verify?: (name: string, payload: unknown) => Promise<void>;
  /** Rewrites error messages before they leave (server paths). */
  redact?: (text: string) => string;
  /** What `server:status` says now (sent to each client as it connects). */
  serverStatus?: () => ServerStatusEvent;
}

/** Creates the Broadcaster for an io server (so the executor can exist before sockets). */
export function createBroadcaster(io: EaselServer): Broadcaster {
  return {
    toClient: (clientId, event, ...args) => {
      io.to(clientRoom(clientId)).emit(event, ...args);
    },
    toAll: (event, ...args) => {
      io.emit(event, ...args);
    },
  };
}

export function createSocketServer(http: HttpServer, opts: SocketServerOptions): EaselServer {
  return new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
    serveClient: false,
    maxHttpBufferSize: opts.maxHttpBufferSize,
    cors: { origin: opts.corsOrigins.length > 0 ? [...opts.corsOrigins] : false, credentials: false },
    // CORS headers do not stop a WebSocket from another origin: check the Origin ourselves.
    allowRequest: (req, cb) => cb(originAllowed(req, opts.corsOrigins) ? null : 'origin not allowed', originAllowed(req, opts.corsOrigins)),
  });
}

/** Installs the handshake checks and the per-connection setup. */
export function attachHandlers(io: EaselServer, opts: SocketServerOptions, deps: HandlerDeps): void {
  const handlers = { ...jobHandlers(deps), ...galleryHandlers(deps), ...modelHandlers(deps), ...driveHandlers(deps), ...controlNetHandlers(deps) };

  io.use((socket, next) => {
    const fail = (err: EaselError): void => {
      const e = new Error(err.message) as Error & { data?: unknown };
      e.data = err.toWire();
      next(e);
    };
    const ip = clientIp(socket.handshake.address, socket.handshake.headers, opts.proxyTrust);
    consume(opts.limits.connections, ip, 'connections')
      .then(() => {
        const auth = (socket.handshake.auth ?? {}) as { token?: unknown; client_id?: unknown };
        const given = typeof auth.token === 'string' ? auth.token : tokenFromAuthorization(socket.handshake.headers.authorization);
        if (!tokensEqual(given, opts.token)) return fail(new EaselError('unauthorized', 'a valid token is required'));
        const clientId = typeof auth.client_id === 'string' && CLIENT_ID.test(auth.client_id) ? auth.client_id : socket.id.replace(/[^A-Za-z0-9_-]/g, '_');
        socket.data.clientId = clientId;
        socket.data.address = ip;
        next();
      })
      .catch((err: unknown) => fail(isEaselError(err) ? err : new EaselError('internal', 'handshake failed')));
  });

  io.on('connection', (socket: EaselSocket) => {
    const clientId = socket.data.clientId;
    void socket.join(clientRoom(clientId));
    registerActions(socket as unknown as ActionSocket, {
      schemas: opts.schemas,
      handlers,
      ctx: { clientId, socketId: socket.id },
      logger: opts.logger,
      // Per client id, per address and per token: a new client_id or a reconnect buys no new budget.
      limit: async (ctx) => {
        await consume(opts.limits.actions, ctx.clientId, 'actions');
        await consume(opts.limits.actionsByAddress, socket.data.address, 'actions from this address');
        await consume(opts.limits.actionsByToken, 'token', 'actions with this token');
      },
      ...(opts.mapError ? { mapError: opts.mapError } : {}),
      ...(opts.verify ? { verify: opts.verify } : {}),
      ...(opts.redact ? { redact: opts.redact } : {}),
    });
    // A (re)connecting client learns where its jobs stand without asking.
    socket.emit('queue', { seq: nextSeq(), jobs: deps.queue.entriesFor(clientId), queued_total: deps.queue.queuedCount });
    // Downloads are shared: a client that connects mid-transfer sees them at once, not at the next tick.
    for (const progress of deps.downloads?.active ?? []) socket.emit('download:progress', progress);
    // A full disk (work refused) is shown at once, not at the next failure.
    if (opts.serverStatus) socket.emit('server:status', opts.serverStatus());
  });
}

let seqCounter = 0;
/** Monotonic sequence for `queue` and `job:status` events within this process. */
export function nextSeq(): number {
  return ++seqCounter;
}

/** Turns queue changes into `queue`, `job:status` and `error` events. */
export function queueListener(events: Broadcaster) {
  return {
    onStatus(job: Job): void {
      events.toClient(job.clientId, 'job:status', {
        seq: nextSeq(),
        job_id: job.id,
        status: job.status,
        ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
      });
      if (job.status === 'failed' && job.error) {
        events.toClient(job.clientId, 'error', { job_id: job.id, code: job.error.code, message: job.error.message });
      }
    },
    onPositions(changes: Map<string, QueueEntry[]>, queuedTotal: number): void {
      for (const [clientId, jobs] of changes) events.toClient(clientId, 'queue', { seq: nextSeq(), jobs, queued_total: queuedTotal });
    },
  };
}

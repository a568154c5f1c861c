// Server-sent events over the job event hub: the same progress / preview / complete / error (and
// queued, job:status) events the socket carries, numbered so a client that reconnects with
// `Last-Event-ID` gets exactly what it missed. Previews travel as base64 JPEG (SSE is text).
import type { Request, Response } from 'express';
import type { JobEventHub, JobEventRecord } from '../../jobs/job-events.js';

/** Comment line sent this often so proxies and tunnels never see an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;
/** What EventSource waits before reconnecting. */
const RETRY_MS = 2000;
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** The JSON of one record's data; binary previews become base64. */
export function sseData(r: JobEventRecord): string {
  if (r.event === 'preview') {
    const p = r.data as { job_id: string; step: number; mime: string; data: Uint8Array };
    return JSON.stringify({ job_id: p.job_id, step: p.step, mime: p.mime, data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64') });
  }
  return JSON.stringify(r.data);
}

export function formatSse(r: JobEventRecord): string {
  return `id: ${r.id}\nevent: ${r.event}\ndata: ${sseData(r)}\n\n`;
}

/** `Last-Event-ID` header (what EventSource sends), or `?last_event_id=` for clients that cannot set it. */
export function lastEventId(req: Request): number | undefined {
  const raw = req.headers['last-event-id'] ?? (typeof req.query.last_event_id === 'string' ? req.query.last_event_id : undefined);
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

export interface StreamOptions {
  hub: JobEventHub;
  match: (r: JobEventRecord) => boolean;
  /** Replay from here when the client sent no Last-Event-ID (0 = everything kept). */
  replayFrom: number;
  /** End the stream after this job's final status (per-job streams). */
  endAfterJob?: string;
  /** Sent when the job already ended and none of its events are kept any more. */
  finalSnapshot?: () => { event: string; data: unknown } | undefined;
  heartbeatMs?: number;
}

/**
 * Streams matching records: first what the client missed, then live ones, with no gap between (live
 * records that arrive during the replay are queued and sent after it).
 */
export function streamEvents(req: Request, res: Response, opts: StreamOptions): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write(`retry: ${RETRY_MS}\n\n`);

  let lastSent = lastEventId(req) ?? opts.replayFrom;
  let replaying = true;
  const pending: JobEventRecord[] = [];
  let ending = false;

  const end = (): void => {
    if (ending) return;
    ending = true;
    // Let events emitted in the same tick as the final status (the socket's `error`) go out first.
    setImmediate(() => {
      cleanup();
      res.end();
    });
  };
  const send = (r: JobEventRecord): void => {
    if (r.id <= lastSent || res.writableEnded) return;
    lastSent = r.id;
    res.write(formatSse(r));
    if (opts.endAfterJob && r.jobId === opts.endAfterJob && r.event === 'job:status' && FINISHED.has((r.data as { status: string }).status)) end();
  };
  const off = opts.hub.subscribe((r) => {
    if (!opts.match(r)) return;
    if (replaying) pending.push(r);
    else send(r);
  });
  const heartbeat = setInterval(() => {
    if (!res.writableEnded) res.write(': ping\n\n');
  }, opts.heartbeatMs ?? SSE_HEARTBEAT_MS);
  const cleanup = (): void => {
    off();
    clearInterval(heartbeat);
  };
  res.on('close', cleanup);

  const past = opts.hub.replay(lastSent, opts.match);
  for (const r of past) send(r);
  replaying = false;
  for (const r of pending.splice(0)) send(r);
  if (!ending && opts.endAfterJob && past.length === 0) {
    const snap = opts.finalSnapshot?.();
    if (snap) {
      res.write(`event: ${snap.event}\ndata: ${JSON.stringify(snap.data)}\n\n`);
      end();
    }
  }
}

// One tap on every job event the server sends (queued, job:status, progress, preview, complete,
// error), whoever owns the job: a bounded, numbered log that server-sent-event streams replay from
// (Last-Event-ID), live subscriptions, waiting for a job to finish, and the latest progress and
// preview of each running job (what A1111's /sdapi/v1/progress reports). Socket.IO delivery is
// unchanged: `wrap` returns a Broadcaster that forwards everything to the inner one first.
import type { Broadcaster } from './job-runner.js';
import type { ServerToClientEvents } from '../protocol/index.js';
import type { JobStatusEvent } from '../protocol/events.js';

/** The events about one job that REST clients can follow. */
export const JOB_EVENT_NAMES = ['queued', 'job:status', 'progress', 'preview', 'complete', 'error'] as const;
export type JobEventName = (typeof JOB_EVENT_NAMES)[number];

export interface JobEventRecord {
  /** Monotonic within this server process; the SSE `id:`. */
  id: number;
  clientId: string;
  jobId: string;
  event: JobEventName;
  data: Parameters<ServerToClientEvents[JobEventName]>[0];
  /** Rough size, for the log's byte bound (previews dominate). */
  bytes: number;
}

export interface JobProgressState {
  step: number;
  total: number;
  /** When the first progress of this job arrived (ms since epoch). */
  startedAt: number;
  /** The last preview JPEG, if any. */
  preview?: Uint8Array;
}

export interface JobEventHubOptions {
  /** Most records kept for replay (default 2000). */
  maxRecords?: number;
  /** Most bytes of records kept for replay (default 16 MiB). */
  maxBytes?: number;
  now?: () => number;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const isJobEvent = (e: string): e is JobEventName => (JOB_EVENT_NAMES as readonly string[]).includes(e);

export class JobEventHub {
  private readonly log: JobEventRecord[] = [];
  private logBytes = 0;
  private nextId = 1;
  private readonly listeners = new Set<(r: JobEventRecord) => void>();
  private readonly progress = new Map<string, JobProgressState>();
  private readonly finished = new Map<string, JobStatusEvent>();
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(opts: JobEventHubOptions = {}) {
    this.maxRecords = opts.maxRecords ?? 2000;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A Broadcaster that sends through `inner` and records every job event.
   *
   * @example const events = hub.wrap(createBroadcaster(io))
   */
  wrap(inner: Broadcaster): Broadcaster {
    return {
      toClient: (clientId, event, ...args) => {
        inner.toClient(clientId, event, ...args);
        if (isJobEvent(event)) this.record(clientId, event, args[0] as JobEventRecord['data']);
      },
      toAll: (event, ...args) => inner.toAll(event, ...args),
    };
  }

  /** Records one event, updates the progress state and wakes listeners (exported for tests). */
  record(clientId: string, event: JobEventName, data: JobEventRecord['data']): void {
    const jobId = (data as { job_id?: string }).job_id;
    if (!jobId) return;
    if (event === 'progress') {
      const p = data as { step: number; total: number };
      const prev = this.progress.get(jobId);
      this.progress.set(jobId, { step: p.step, total: p.total, startedAt: prev?.startedAt ?? this.now(), ...(prev?.preview ? { preview: prev.preview } : {}) });
    } else if (event === 'preview') {
      const p = data as { data: Uint8Array | ArrayBuffer };
      const prev = this.progress.get(jobId) ?? { step: 0, total: 0, startedAt: this.now() };
      prev.preview = p.data instanceof Uint8Array ? p.data : new Uint8Array(p.data);
      this.progress.set(jobId, prev);
    } else if (event === 'job:status') {
      const s = data as JobStatusEvent;
      if (s.status === 'running' && !this.progress.has(jobId)) this.progress.set(jobId, { step: 0, total: 0, startedAt: this.now() });
      if (FINISHED.has(s.status)) {
        this.progress.delete(jobId);
        this.finished.set(jobId, s);
        // Bounded: only waiters that registered recently need this.
        if (this.finished.size > this.maxRecords) this.finished.delete(this.finished.keys().next().value!);
      }
    }
    const bytes = event === 'preview' ? ((data as { data: Uint8Array }).data.byteLength ?? 0) + 100 : 300;
    const rec: JobEventRecord = { id: this.nextId++, clientId, jobId, event, data, bytes };
    this.log.push(rec);
    this.logBytes += bytes;
    while (this.log.length > this.maxRecords || this.logBytes > this.maxBytes) this.logBytes -= this.log.shift()!.bytes;
    for (const l of this.listeners) l(rec);
  }

  /** Records after `afterId` that match, oldest first (what a reconnecting stream missed). */
  replay(afterId: number, match: (r: JobEventRecord) => boolean): JobEventRecord[] {
    return this.log.filter((r) => r.id > afterId && match(r));
  }

  /** The id of the oldest record still kept (0 when empty). */
  get oldestId(): number {
    return this.log[0]?.id ?? 0;
  }

  /** The id the next record will get minus one: what "everything so far" means. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Calls `listener` for every new record; returns the unsubscribe function. */
  subscribe(listener: (r: JobEventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The latest progress (and preview) of a job that is running, if any arrived. */
  progressOf(jobId: string): JobProgressState | undefined {
    return this.progress.get(jobId);
  }

  /**
   * Resolves with the job's final `job:status` (completed, failed or cancelled).
   *
   * @example const end = await hub.whenFinished(job.id)
   */
  whenFinished(jobId: string): Promise<JobStatusEvent> {
    const done = this.finished.get(jobId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const off = this.subscribe((r) => {
        if (r.jobId !== jobId || r.event !== 'job:status') return;
        const s = r.data as JobStatusEvent;
        if (!FINISHED.has(s.status)) return;
        off();
        resolve(s);
      });
    });
  }
}

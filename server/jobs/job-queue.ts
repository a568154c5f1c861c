// The GPU lane: a priority-then-FIFO queue that runs one job at a time through an executor (the
// engine supervisor plus the gallery write), persists every state change, and tells each client
// its jobs' positions whenever they change. A queue cap answers `queue_full`.
import { randomUUID } from 'node:crypto';
import { EaselError, isEaselError, type WireError } from '../protocol/errors.js';
import type { JobKind } from '../protocol/jobs.js';
import type { JobStore } from '../gallery/job-store.js';
import { compareJobs, isFinished, transition, type Job } from './job.js';

export interface QueueEntry {
  job_id: string;
  status: 'queued' | 'running';
  position: number;
}

/** Runs one job; resolves with the gallery ids it produced, rejects with an EaselError. */
export type JobExecutor = (job: Job, signal: AbortSignal) => Promise<{ imageIds: string[] }>;

export interface JobQueueListener {
  /** Every state change, after it is persisted. */
  onStatus(job: Job): void;
  /** Clients whose queue entries changed, with their new entries (empty = nothing left). */
  onPositions(changes: Map<string, QueueEntry[]>, queuedTotal: number): void;
}

export interface JobQueueOptions {
  store: JobStore;
  executor: JobExecutor;
  listener: JobQueueListener;
  maxQueued: number;
  now?: () => number;
  /** Refuses new jobs up front (throws a coded error), e.g. while the disk is full. */
  admit?: () => void;
  /** While true no job starts; queued ones wait (a full disk). Call `resume()` when it ends. */
  paused?: () => boolean;
  /** Codes unexpected failures (full disk → insufficient_space) and strips server paths. */
  failures?: { classify(err: unknown): EaselError | undefined; redact(text: string): string };
}

export class JobQueue {
  private readonly queued: Job[] = [];
  private current: { job: Job; controller: AbortController } | undefined;
  private readonly lastSent = new Map<string, string>();
  private seq: number;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: JobQueueOptions) {
    this.seq = opts.store.nextSeq();
    this.now = opts.now ?? Date.now;
  }

  /** Puts jobs recovered from the store back in the queue (already in order) and starts the lane. */
  restore(jobs: readonly Job[]): void {
    for (const job of jobs) if (job.status === 'queued') this.insertSorted(job);
    this.changed();
  }

  enqueue(input: { kind: JobKind; clientId: string; params: Record<string, unknown>; priority?: number }): Job {
    if (this.stopped) throw new EaselError('server_stopped', 'the server is shutting down');
    this.opts.admit?.();
    if (this.queued.length >= this.opts.maxQueued) {
      throw new EaselError('queue_full', `the queue is full (${this.opts.maxQueued} jobs waiting); try again later`);
    }
    const job: Job = {
      id: randomUUID(),
      kind: input.kind,
      clientId: input.clientId,
      params: input.params,
      priority: input.priority ?? 0,
      status: 'queued',
      seq: this.seq++,
      createdAt: this.now(),
      startedAt: null,
      finishedAt: null,
      error: null,
      imageIds: [],
    };
    try {
      this.opts.store.insert(job);
    } catch (err) {
      // Nothing was queued: the client gets the coded reason (a full disk) and may try again.
      throw this.opts.failures?.classify(err) ?? err;
    }
    this.insertSorted(job);
    this.opts.listener.onStatus(job);
    this.changed();
    return job;
  }

  /**
   * Cancels a client's job: a queued one is removed at once, a running one is aborted (the engine
   * stops within one step) and becomes `cancelled` when the executor returns.
   */
  cancel(jobId: string, clientId: string): 'cancelled' | 'cancelling' {
    const idx = this.queued.findIndex((j) => j.id === jobId);
    if (idx >= 0 && this.queued[idx]!.clientId === clientId) {
      const [job] = this.queued.splice(idx, 1);
      transition(job!, 'cancelled', this.now());
      this.persist(job!);
      this.changed();
      return 'cancelled';
    }
    if (this.current && this.current.job.id === jobId && this.current.job.clientId === clientId) {
      this.current.controller.abort();
      return 'cancelling';
    }
    const stored = this.opts.store.get(jobId);
    if (stored && stored.clientId === clientId && isFinished(stored.status)) {
      throw new EaselError('conflict', `job ${jobId} already ${stored.status}`);
    }
    throw new EaselError('not_found', `no job ${jobId}`, { field: 'job_id' });
  }

  /** A job by id (live state first, then the store). */
  get(jobId: string): Job | undefined {
    if (this.current?.job.id === jobId) return this.current.job;
    return this.queued.find((j) => j.id === jobId) ?? this.opts.store.get(jobId);
  }

  /** 1-based position while queued, 0 while running, null otherwise. */
  positionOf(jobId: string): number | null {
    if (this.current?.job.id === jobId) return 0;
    const idx = this.queued.findIndex((j) => j.id === jobId);
    return idx >= 0 ? idx + 1 : null;
  }

  /** The client's queued/running jobs with positions (what the `queue` event carries). */
  entriesFor(clientId: string): QueueEntry[] {
    const out: QueueEntry[] = [];
    if (this.current && this.current.job.clientId === clientId) out.push({ job_id: this.current.job.id, status: 'running', position: 0 });
    this.queued.forEach((j, i) => {
      if (j.clientId === clientId) out.push({ job_id: j.id, status: 'queued', position: i + 1 });
    });
    return out;
  }

  /** A client's most recent jobs, newest first, as stored (every change is persisted first). */
  recentFor(clientId: string, limit = 50): Job[] {
    return this.opts.store.listByClient(clientId, limit);
  }

  get queuedCount(): number {
    return this.queued.length;
  }

  get runningJob(): Job | undefined {
    return this.current?.job;
  }

  /** Starts the next job after a pause (`paused()` turned false: disk space is back). */
  resume(): void {
    this.changed();
  }

  /** Resolves when nothing is running and nothing is queued (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (!this.current && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Shutdown: starts nothing new; the running job is aborted and recorded as failed with
   * `server_stopped`; queued jobs stay queued in the store for the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const cur = this.current;
    if (!cur) return;
    cur.controller.abort();
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private insertSorted(job: Job): void {
    let i = this.queued.length;
    while (i > 0 && compareJobs(job, this.queued[i - 1]!) < 0) i--;
    this.queued.splice(i, 0, job);
  }

  private persist(job: Job): void {
    this.opts.store.update(job);
    this.opts.listener.onStatus(job);
  }

  /**
   * persist() that never throws: a store that cannot write (full disk) must not take the process
   * down from a microtask. The client still hears the new status; false when it was not stored.
   */
  private tryPersist(job: Job): boolean {
    try {
      this.persist(job);
      return true;
    } catch (err) {
      const coded = this.opts.failures?.classify(err) ?? new EaselError('internal', 'the job store could not be written');
      if (!isFinished(job.status)) transition(job, 'failed', this.now(), coded.toWire());
      this.opts.listener.onStatus(job);
      return false;
    }
  }

  /** Recomputes positions, notifies the clients whose entries changed, and starts the next job. */
  private changed(): void {
    const clients = new Set<string>(this.lastSent.keys());
    if (this.current) clients.add(this.current.job.clientId);
    for (const j of this.queued) clients.add(j.clientId);
    const changes = new Map<string, QueueEntry[]>();
    for (const c of clients) {
      const entries = this.entriesFor(c);
      const key = JSON.stringify(entries);
      if (this.lastSent.get(c) === key) continue;
      if (entries.length === 0) this.lastSent.delete(c);
      else this.lastSent.set(c, key);
      changes.set(c, entries);
    }
    if (changes.size > 0) this.opts.listener.onPositions(changes, this.queued.length);
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    if (this.current) return;
    if (this.stopped || this.queued.length === 0) {
      if (!this.current) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    if (this.opts.paused?.()) return;
    const job = this.queued.shift()!;
    const controller = new AbortController();
    this.current = { job, controller };
    transition(job, 'running', this.now());
    if (!this.tryPersist(job)) {
      // Could not even record the start (full disk): the job failed with that code; go on.
      this.current = undefined;
      this.changed();
      return;
    }
    this.changed();
    void this.execute(job, controller);
  }

  private async execute(job: Job, controller: AbortController): Promise<void> {
    try {
      const out = await this.opts.executor(job, controller.signal);
      job.imageIds = out.imageIds;
      transition(job, 'completed', this.now());
    } catch (err) {
      const coded = isEaselError(err) ? err : this.opts.failures?.classify(err);
      const wire: WireError = coded ? coded.toWire() : { code: 'internal', message: err instanceof Error ? err.message : String(err) };
      if (this.opts.failures) wire.message = this.opts.failures.redact(wire.message);
      if (this.stopped && controller.signal.aborted) {
        transition(job, 'failed', this.now(), { code: 'server_stopped', message: 'the server stopped while this job was running' });
      } else if (controller.signal.aborted || wire.code === 'cancelled') {
        transition(job, 'cancelled', this.now());
      } else {
        transition(job, 'failed', this.now(), wire);
      }
    }
    this.current = undefined;
    this.tryPersist(job);
    this.changed();
  }
}

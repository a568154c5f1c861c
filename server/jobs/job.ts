// A job inside the server and its typed state machine: queued → running → completed | failed |
// cancelled (a queued job may also be cancelled or failed directly). Transitions not in the table
// are bugs and throw.
import { EaselError, type WireError } from '../protocol/errors.js';
import type { JobKind, JobStatus, JobSummary } from '../protocol/jobs.js';
import type { ProgressEvent } from '../protocol/events.js';

export interface Job {
  id: string;
  kind: JobKind;
  /** Owner: the client id of the socket that queued it (room `client:<id>`). */
  clientId: string;
  /** Validated action payload (may hold Uint8Array images). */
  params: Record<string, unknown>;
  priority: number;
  status: JobStatus;
  /** Insertion order, persisted: FIFO among equal priorities survives a restart. */
  seq: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: WireError | null;
  imageIds: string[];
  /** The latest progress (phase, step, ETA) while queued or running; REST/SSE views read it here. */
  progress?: ProgressEvent;
}

const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isFinished(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Moves a job to `to`, stamping times; throws on a transition the machine does not allow. */
export function transition(job: Job, to: JobStatus, now = Date.now(), error: WireError | null = null): void {
  if (!TRANSITIONS[job.status].includes(to)) {
    throw new EaselError('internal', `job ${job.id}: cannot go from ${job.status} to ${to}`);
  }
  job.status = to;
  if (to === 'running') job.startedAt = now;
  if (isFinished(to)) job.finishedAt = now;
  if (error) job.error = error;
}

/** Priority first (higher runs sooner), then FIFO. */
export function compareJobs(a: Job, b: Job): number {
  return b.priority - a.priority || a.seq - b.seq;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toJobSummary(job: Job, position: number | null): JobSummary {
  return {
    job_id: job.id,
    kind: job.kind,
    status: job.status,
    position,
    priority: job.priority,
    created_at: new Date(job.createdAt).toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    error: job.error,
    image_ids: [...job.imageIds],
    ...(job.progress && !isFinished(job.status) ? { progress: job.progress } : {}),
  };
}

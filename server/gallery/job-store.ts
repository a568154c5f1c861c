// The jobs table: every job with its params, status and result image ids, so a restart loses no
// queued job and a reconnecting client can still look its jobs up by id. Image bytes inside params
// are stored as `{ "$bytes": base64 }` because JSON has no binary type.
import type { Db } from './database.js';
import { applySchema } from './database.js';
import type { Job } from '../jobs/job.js';
import type { JobKind, JobStatus } from '../protocol/jobs.js';
import type { WireError } from '../protocol/errors.js';

const SCHEMA = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     seq INTEGER NOT NULL UNIQUE,
     kind TEXT NOT NULL,
     client_id TEXT NOT NULL,
     params TEXT NOT NULL,
     priority INTEGER NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     error TEXT,
     image_ids TEXT NOT NULL DEFAULT '[]'
   )`,
  'CREATE INDEX jobs_status ON jobs (status, priority DESC, seq)',
  'CREATE INDEX jobs_client ON jobs (client_id, seq DESC)',
];

/** How long finished jobs stay in the table (their images stay in the gallery regardless). */
export const FINISHED_JOB_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** What a job that was running when the server stopped becomes. */
export const INTERRUPTED_MESSAGE = 'the server stopped while this job was running';

interface Row {
  id: string;
  seq: number;
  kind: string;
  client_id: string;
  params: string;
  priority: number;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  image_ids: string;
}

function encodeParams(params: Record<string, unknown>): string {
  return JSON.stringify(params, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v));
}

function decodeParams(text: string): Record<string, unknown> {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $bytes?: unknown }).$bytes === 'string') {
      return new Uint8Array(Buffer.from((v as { $bytes: string }).$bytes, 'base64'));
    }
    return v;
  }) as Record<string, unknown>;
}

function fromRow(r: Row): Job {
  return {
    id: r.id,
    seq: r.seq,
    kind: r.kind as JobKind,
    clientId: r.client_id,
    params: decodeParams(r.params),
    priority: r.priority,
    status: r.status as JobStatus,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error === null ? null : (JSON.parse(r.error) as WireError),
    imageIds: JSON.parse(r.image_ids) as string[],
  };
}

export class JobStore {
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly getStmt;

  constructor(private readonly db: Db) {
    applySchema(db, 'jobs', SCHEMA);
    this.insertStmt = db.prepare(
      `INSERT INTO jobs (id, seq, kind, client_id, params, priority, status, created_at, started_at, finished_at, error, image_ids)
       VALUES (@id, @seq, @kind, @client_id, @params, @priority, @status, @created_at, @started_at, @finished_at, @error, @image_ids)`,
    );
    this.updateStmt = db.prepare(
      'UPDATE jobs SET status = @status, started_at = @started_at, finished_at = @finished_at, error = @error, image_ids = @image_ids WHERE id = @id',
    );
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE id = ?');
  }

  /** The seq the next new job gets (one past the largest stored). */
  nextSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS m FROM jobs').get() as { m: number | null };
    return (row.m ?? 0) + 1;
  }

  insert(job: Job): void {
    this.insertStmt.run({
      id: job.id,
      seq: job.seq,
      kind: job.kind,
      client_id: job.clientId,
      params: encodeParams(job.params),
      priority: job.priority,
      status: job.status,
      created_at: job.createdAt,
      started_at: job.startedAt,
      finished_at: job.finishedAt,
      error: job.error ? JSON.stringify(job.error) : null,
      image_ids: JSON.stringify(job.imageIds),
    });
  }

  /** Writes the mutable part of a job (status, times, error, results). */
  update(job: Job): void {
    this.updateStmt.run({
      id: job.id,
      status: job.status,
      started_at: job.startedAt,
      finished_at: job.finishedAt,
      error: job.error ? JSON.stringify(job.error) : null,
      image_ids: JSON.stringify(job.imageIds),
    });
  }

  get(id: string): Job | undefined {
    const r = this.getStmt.get(id) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** A client's most recent jobs, newest first. */
  listByClient(clientId: string, limit = 50): Job[] {
    const rows = this.db.prepare('SELECT * FROM jobs WHERE client_id = ? ORDER BY seq DESC LIMIT ?').all(clientId, limit) as Row[];
    return rows.map(fromRow);
  }

  /**
   * Start-up recovery: jobs left `running` by a crash become `failed` with a clear reason, and the
   * `queued` ones come back in queue order (priority, then FIFO) to be re-queued. Finished jobs
   * older than `keepFinishedMs` are dropped.
   */
  recover(now = Date.now(), keepFinishedMs = FINISHED_JOB_TTL_MS): { requeued: Job[]; interrupted: Job[] } {
    return this.db.transaction(() => {
      // Finished jobs are history, kept long enough for any client to come back for its results.
      this.db.prepare("DELETE FROM jobs WHERE status IN ('completed', 'failed', 'cancelled') AND finished_at < ?").run(now - keepFinishedMs);
      const running = (this.db.prepare("SELECT * FROM jobs WHERE status = 'running'").all() as Row[]).map(fromRow);
      for (const job of running) {
        job.status = 'failed';
        job.finishedAt = now;
        job.error = { code: 'server_stopped', message: INTERRUPTED_MESSAGE };
        this.update(job);
      }
      const queued = (this.db.prepare("SELECT * FROM jobs WHERE status = 'queued' ORDER BY priority DESC, seq").all() as Row[]).map(fromRow);
      return { requeued: queued, interrupted: running };
    })();
  }
}

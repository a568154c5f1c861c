// Easel's REST job API for clients that do not speak Socket.IO: POST /api/jobs (the socket's
// `generate`, `upscale` and `adetailer` payloads, same schemas, same handlers, same per-client
// action rate limit, same error messages), GET and DELETE /api/jobs/:id, and server-sent events per
// job and per client with Last-Event-ID resume. Mounted under /api, behind the token.
import express, { type Request, type Router } from 'express';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import { EaselError, zodToEaselError } from '../../protocol/errors.js';
import type { ActionSchemas } from '../../protocol/actions.js';
import type { JobKind, JobSummary } from '../../protocol/jobs.js';
import { JOB_KINDS } from '../../protocol/jobs.js';
import { consume } from '../../security/rate-limits.js';
import { toJobSummary } from '../../jobs/job.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import type { JobEventHub } from '../../jobs/job-events.js';
import type { jobHandlers } from '../../realtime/job-handlers.js';
import type { GalleryPort } from '../../realtime/ports.js';
import { streamEvents } from './sse.js';

/** Owner of jobs queued over REST unless the caller names itself (`X-Client-Id` or `?client_id=`). */
export const REST_CLIENT_ID = 'api';
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface JobsApiDeps {
  jobs: Pick<ReturnType<typeof jobHandlers>, 'generate' | 'upscale' | 'adetailer'>;
  schemas: ActionSchemas;
  queue: JobQueue;
  hub: JobEventHub;
  gallery: Pick<GalleryPort, 'get'>;
  /** The socket's per-client action limiter: a REST job costs what a socket action costs. */
  actionLimiter: RateLimiterMemory;
}

/**
 * The caller's client id. Naming the PWA's own id shares its jobs and events (one user, one token).
 */
export function restClientId(req: Request): string {
  const given = req.header('x-client-id') ?? (typeof req.query.client_id === 'string' ? req.query.client_id : undefined);
  if (given === undefined) return REST_CLIENT_ID;
  if (!CLIENT_ID.test(given)) throw new EaselError('invalid_params', 'client_id: must be 1-64 letters, digits, _ or -', { field: 'client_id' });
  return given;
}

function jobIdOf(req: Request): string {
  const id = String(req.params.id ?? '');
  if (!JOB_ID.test(id)) throw new EaselError('invalid_params', 'id: must be a job id (letters, digits, _ and -)', { field: 'id' });
  return id;
}

export function createJobsApiRoutes(deps: JobsApiDeps): Router {
  const router = express.Router();

  const summary = (jobId: string): JobSummary => {
    const job = deps.queue.get(jobId);
    if (!job) throw new EaselError('not_found', `no job ${jobId}`, { field: 'id' });
    const out: JobSummary = toJobSummary(job, deps.queue.positionOf(job.id));
    if (job.status === 'completed') out.images = job.imageIds.map((id) => deps.gallery.get(id)).filter((i) => i !== undefined);
    const p = deps.hub.progressOf(job.id);
    if (job.status === 'running' && p && !out.progress) out.progress = { job_id: job.id, status: 'running', step: p.step, total: p.total };
    return out;
  };

  router.post('/jobs', async (req, res) => {
    const clientId = restClientId(req);
    await consume(deps.actionLimiter, clientId, 'actions');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new EaselError('invalid_params', '(payload): expected an object', { field: '(payload)' });
    const { kind = 'generate', ...payload } = body;
    if (typeof kind !== 'string' || !(JOB_KINDS as readonly string[]).includes(kind)) {
      throw new EaselError('invalid_params', `kind: must be one of ${JOB_KINDS.join(', ')}, got ${JSON.stringify(kind)}`, { field: 'kind' });
    }
    const k = kind as JobKind;
    const ctx = { clientId, socketId: 'rest' };
    let result: { job_id: string; position: number };
    if (k === 'generate') {
      const parsed = deps.schemas.generate.safeParse(payload);
      if (!parsed.success) throw zodToEaselError(parsed.error);
      result = await deps.jobs.generate(parsed.data, ctx);
    } else if (k === 'upscale') {
      const parsed = deps.schemas.upscale.safeParse(payload);
      if (!parsed.success) throw zodToEaselError(parsed.error);
      result = await deps.jobs.upscale(parsed.data, ctx);
    } else {
      const parsed = deps.schemas.adetailer.safeParse(payload);
      if (!parsed.success) throw zodToEaselError(parsed.error);
      result = await deps.jobs.adetailer(parsed.data, ctx);
    }
    res.status(202).setHeader('Location', `/api/jobs/${result.job_id}`);
    res.json(result);
  });

  router.get('/jobs/:id', (req, res) => {
    res.json({ job: summary(jobIdOf(req)) });
  });

  // One token is one user: any job may be cancelled by it, whichever client queued it.
  router.delete('/jobs/:id', (req, res) => {
    const id = jobIdOf(req);
    const job = deps.queue.get(id);
    if (!job) throw new EaselError('not_found', `no job ${id}`, { field: 'id' });
    res.json({ job_id: id, status: deps.queue.cancel(id, job.clientId) });
  });

  router.get('/jobs/:id/events', (req, res) => {
    const id = jobIdOf(req);
    if (!deps.queue.get(id)) throw new EaselError('not_found', `no job ${id}`, { field: 'id' });
    streamEvents(req, res, {
      hub: deps.hub,
      match: (r) => r.jobId === id,
      replayFrom: 0,
      endAfterJob: id,
      finalSnapshot: () => {
        const s = summary(id);
        return s.status === 'completed' || s.status === 'failed' || s.status === 'cancelled' ? { event: 'job', data: s } : undefined;
      },
    });
  });

  router.get('/events', (req, res) => {
    const clientId = restClientId(req);
    // Without Last-Event-ID a client starts from now; with it, from where it was.
    streamEvents(req, res, { hub: deps.hub, match: (r) => r.clientId === clientId, replayFrom: deps.hub.lastId });
  });

  return router;
}

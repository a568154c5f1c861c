// Socket actions about jobs: generate, upscale, adetailer (queue a job), cancel, and get_queue /
// get_job, which is how a reconnecting client recovers its jobs and their results by id.
import { EaselError } from '../protocol/errors.js';
import type { JobKind, JobSummary } from '../protocol/jobs.js';
import { toJobSummary, type Job } from '../jobs/job.js';
import type { ActionContext, ActionHandler } from './ack.js';
import type { HandlerDeps } from './ports.js';
import { refusedUnitOption } from '../protocol/adetailer.js';
import { withCheckedControlNet } from './controlnet-handlers.js';

const UNAVAILABLE: Record<JobKind, string> = {
  generate: 'the image generation engine is not available in this build yet',
  upscale: 'upscaling is not available in this build yet',
  adetailer: 'the detail pass (ADetailer) is not available in this build yet',
};

function summarize(deps: HandlerDeps, job: Job, withImages: boolean): JobSummary {
  const summary = toJobSummary(job, deps.queue.positionOf(job.id));
  if (withImages && job.status === 'completed') {
    summary.images = job.imageIds.map((id) => deps.gallery.get(id)).filter((i) => i !== undefined);
  }
  return summary;
}

export function jobHandlers(deps: HandlerDeps) {
  /** Refuses up front when the worker said it cannot do this kind, so no doomed job is queued. */
  const requireCapability = (kind: JobKind): void => {
    const caps = deps.capabilities();
    if (!caps || !caps[kind]) throw new EaselError('engine_unavailable', UNAVAILABLE[kind]);
  };

  const requireModel = async (name: string | undefined): Promise<void> => {
    if (name === undefined) return;
    const models = await deps.listModels('checkpoint');
    if (!models.some((m) => m.name === name)) throw new EaselError('invalid_params', `model: no checkpoint named "${name}"`, { field: 'model' });
  };

  const enqueue = (kind: JobKind, ctx: ActionContext, payload: Record<string, unknown> & { priority?: number }) => {
    const { priority, ...params } = payload;
    const job = deps.queue.enqueue({ kind, clientId: ctx.clientId, params, priority: priority ?? 0 });
    const position = deps.queue.positionOf(job.id) ?? 0;
    deps.events.toClient(ctx.clientId, 'queued', { job_id: job.id, kind, position });
    return { job_id: job.id, position };
  };

  /** ADetailer options Easel lacks (ad_restore_face, ...) are refused before a job is queued. */
  const refuseUnits = (units: Parameters<typeof refusedUnitOption>[0], path: string): void => {
    const r = refusedUnitOption(units, path);
    if (r) throw new EaselError('not_implemented', r.message, { field: r.field });
  };

  const requireImage = (imageId: string | undefined): void => {
    if (imageId !== undefined && !deps.gallery.get(imageId)) throw new EaselError('not_found', `no image ${imageId}`, { field: 'image_id' });
  };

  const generate: ActionHandler<'generate'> = async (p, ctx) => {
    requireCapability('generate');
    if (p.hires?.enabled && !deps.capabilities()?.hires) throw new EaselError('not_implemented', 'hires fix is not available in this engine build', { field: 'hires' });
    await requireModel(p.model);
    refuseUnits(p.adetailer, 'adetailer');
    p = await withCheckedControlNet(deps, p);
    if (p.enhance_prompt && (p.enhance_prompt === true || p.enhance_prompt.enabled !== false) && !deps.capabilities()?.enhance_prompt) {
      throw new EaselError('engine_unavailable', 'this engine cannot expand prompts (no enhance_prompt capability)', { field: 'enhance_prompt' });
    }
    return enqueue('generate', ctx, p);
  };

  const upscale: ActionHandler<'upscale'> = (p, ctx) => {
    requireCapability('upscale');
    requireImage(p.image_id);
    return enqueue('upscale', ctx, p);
  };

  const adetailer: ActionHandler<'adetailer'> = (p, ctx) => {
    requireCapability('adetailer');
    requireImage(p.image_id);
    refuseUnits(p.units, 'units');
    return enqueue('adetailer', ctx, p);
  };

  const cancel: ActionHandler<'cancel'> = (p, ctx) => ({ job_id: p.job_id, status: deps.queue.cancel(p.job_id, ctx.clientId) });

  const getQueue: ActionHandler<'get_queue'> = (_p, ctx) => {
    const jobs = deps.queue.recentFor(ctx.clientId).map((j) => summarize(deps, j, false));
    return { jobs, queued: deps.queue.queuedCount, running: deps.queue.runningJob?.id ?? null };
  };

  const getJob: ActionHandler<'get_job'> = (p) => {
    const job = deps.queue.get(p.job_id);
    if (!job) throw new EaselError('not_found', `no job ${p.job_id}`, { field: 'job_id' });
    return { job: summarize(deps, job, true) };
  };

  return { generate, upscale, adetailer, cancel, get_queue: getQueue, get_job: getJob };
}

// The executor of the GPU lane: runs a job on the engine supervisor, relays progress (with an ETA)
// and binary previews to the owner's room, saves each result image through the gallery sink, then
// sends `complete` to the owner and `gallery:new` to everyone.
import type { EngineSupervisor } from '../engine/supervisor.js';
import type { GalleryImage } from '../protocol/gallery.js';
import type { ServerToClientEvents } from '../protocol/index.js';
import type { WorkerImage } from '../../native/worker-protocol.js';
import type { Job } from './job.js';
import type { JobExecutor } from './job-queue.js';
import { JobProgressHub } from './job-progress.js';

/** Where events go; implemented over Socket.IO rooms by server/realtime. */
export interface Broadcaster {
  toClient<E extends keyof ServerToClientEvents>(clientId: string, event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
  toAll<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
}

/**
 * Saves one produced image (file, thumbnail, row with infotext) and returns its wire form, or null
 * when the image was handed to whoever asked for it and is not to be kept (an /sdapi request with
 * save_images off).
 */
export type ImageSink = (job: Job, image: WorkerImage, info: Record<string, unknown>) => Promise<GalleryImage | null>;

export interface JobRunnerDeps {
  supervisor: Pick<EngineSupervisor, 'run'>;
  saveImage: ImageSink;
  events: Broadcaster;
  previewEvery: number;
  now?: () => number;
  /** The parameters the worker gets, when they are not the job's own (an upscale reads its source image). */
  workerParams?: (job: Job) => Promise<Record<string, unknown>>;
  /** Phase timings and the running job's progress (server.ts shares it with the queue listener). */
  progress?: JobProgressHub;
}

/**
 * Makes the GPU lane's executor.
 *
 * @example new JobQueue({ executor: createJobExecutor({ supervisor, saveImage, events, previewEvery: 2 }), ... })
 */
export function createJobExecutor(deps: JobRunnerDeps): JobExecutor {
  const now = deps.now ?? Date.now;
  const hub = deps.progress ?? new JobProgressHub(now);
  return async (job, signal) => {
    // Phases, fractions and the ETA (server/jobs/job-progress.ts); the latest lands on job.progress.
    const { tracker, done } = hub.track(job, (e) => deps.events.toClient(job.clientId, 'progress', e));
    const params = deps.workerParams ? await deps.workerParams(job).catch((err: unknown) => (done(false), Promise.reject(err))) : job.params;
    const out = await deps.supervisor.run(job.id, job.kind, params, {
      signal,
      previewEvery: deps.previewEvery,
      onProgress: (step, total, phase) => tracker.update(step, total, phase),
      onPreview: (step, jpeg) => {
        deps.events.toClient(job.clientId, 'preview', { job_id: job.id, step, mime: 'image/jpeg', data: Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength) });
      },
    }).catch((err: unknown) => {
      done(false);
      throw err;
    });
    tracker.enter('saving', { fraction: 0 });
    const images: GalleryImage[] = [];
    let handled = 0;
    for (const image of out.images) {
      const saved = await deps.saveImage(job, image, out.info);
      // null: the image went to a waiting /sdapi request instead of the gallery.
      if (saved) images.push(saved);
      tracker.enter('saving', { fraction: ++handled / out.images.length });
    }
    done(true);
    deps.events.toClient(job.clientId, 'complete', { job_id: job.id, images, metadata: out.info });
    if (images.length > 0) deps.events.toAll('gallery:new', { images });
    return { imageIds: images.map((i) => i.id) };
  };
}

// The executor of the GPU lane: runs a job on the engine supervisor, relays progress (with an ETA)
// and binary previews to the owner's room, saves each result image through the gallery sink, then
// sends `complete` to the owner and `gallery:new` to everyone.
import type { EngineSupervisor } from '../engine/supervisor.js';
import type { GalleryImage } from '../protocol/gallery.js';
import type { ServerToClientEvents } from '../protocol/index.js';
import type { WorkerImage } from '../../native/worker-protocol.js';
import type { Job } from './job.js';
import type { JobExecutor } from './job-queue.js';

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
}

/**
 * Makes the GPU lane's executor.
 *
 * @example new JobQueue({ executor: createJobExecutor({ supervisor, saveImage, events, previewEvery: 2 }), ... })
 */
export function createJobExecutor(deps: JobRunnerDeps): JobExecutor {
  const now = deps.now ?? Date.now;
  return async (job, signal) => {
    const started = now();
    const out = await deps.supervisor.run(job.id, job.kind, job.params, {
      signal,
      previewEvery: deps.previewEvery,
      onProgress: (step, total) => {
        const elapsed = (now() - started) / 1000;
        const eta = step > 0 ? Math.max(0, (elapsed / step) * (total - step)) : undefined;
        deps.events.toClient(job.clientId, 'progress', {
          job_id: job.id,
          step,
          total,
          status: 'running',
          ...(eta === undefined ? {} : { eta_s: Math.round(eta * 10) / 10 }),
        });
      },
      onPreview: (step, jpeg) => {
        deps.events.toClient(job.clientId, 'preview', { job_id: job.id, step, mime: 'image/jpeg', data: Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength) });
      },
    });
    const images: GalleryImage[] = [];
    for (const image of out.images) {
      const saved = await deps.saveImage(job, image, out.info);
      if (saved) images.push(saved);
    }
    deps.events.toClient(job.clientId, 'complete', { job_id: job.id, images, metadata: out.info });
    if (images.length > 0) deps.events.toAll('gallery:new', { images });
    return { imageIds: images.map((i) => i.id) };
  };
}

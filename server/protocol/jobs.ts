// The job shapes that cross the wire: kinds, states, and the summary a client gets back for
// `get_queue` / `get_job` (which is how a reconnecting client recovers its jobs by id).
import type { GalleryImage } from './gallery.js';
import type { WireError } from './errors.js';
import type { ProgressEvent } from './events.js';

export const JOB_KINDS = ['generate', 'upscale', 'adetailer'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * What a job is doing, in the order it passes through (DESIGN.md section 3). The same list as
 * native/worker-protocol.ts JOB_PHASES (a type test keeps them equal; web imports this one).
 */
export const JOB_PHASES = ['queued', 'loading_model', 'encoding', 'sampling', 'decoding', 'postprocessing', 'saving'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

export interface JobSummary {
  job_id: string;
  kind: JobKind;
  status: JobStatus;
  /** 1-based place in the queue while queued, 0 while running, null once finished. */
  position: number | null;
  priority: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: WireError | null;
  /** Gallery ids of the images this job produced (completed jobs). */
  image_ids: string[];
  /** The images themselves with fresh signed URLs, when the job completed and they still exist. */
  images?: GalleryImage[];
  /** While queued or running: the latest progress (phase, step, ETA), as the `progress` event sent it. */
  progress?: ProgressEvent;
}

// The one line under the progress bar that says what the server is doing for the followed job,
// from the `phase` of its progress events (server/jobs/job-progress.ts).
import type { JobView } from '../data/jobs.js';

const pct = (f: number | null | undefined): string => (f === null || f === undefined ? '' : ` · ${Math.round(f * 100)} %`);

/**
 * @example describePhase({ serverPhase: 'sampling', step: 3, total: 20, ... }) // 'Sampling · step 3/20'
 */
export function describePhase(j: Pick<JobView, 'serverPhase' | 'phaseProgress' | 'detail' | 'position' | 'step' | 'total'>): string {
  switch (j.serverPhase) {
    case 'queued':
      return j.position ? `Waiting in the queue · position ${j.position}` : 'Waiting in the queue';
    case 'loading_model':
      return `Loading the model${j.detail ? `: ${j.detail}` : ''}${pct(j.phaseProgress)}`;
    case 'encoding':
      return 'Encoding the prompt';
    case 'sampling':
      return j.total > 0 ? `Sampling · step ${j.step}/${j.total}` : 'Sampling';
    case 'decoding':
      return 'Decoding the image';
    case 'postprocessing':
      return `Post-processing${j.detail ? `: ${j.detail}` : ''}${pct(j.phaseProgress)}`;
    case 'saving':
      return 'Saving to the gallery';
    default:
      return '';
  }
}

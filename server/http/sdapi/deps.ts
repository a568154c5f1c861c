// What the /sdapi/v1 routes need from the rest of the server, as one small interface the
// composition root (server.ts) fills in; tests see the same seams.
import type { WorkerCapabilities } from '../../../native/worker-protocol.js';
import type { ActionSchemas, ModelEntry, ModelType } from '../../protocol/actions.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import type { JobEventHub } from '../../jobs/job-events.js';
import type { JobResults } from '../../jobs/job-results.js';
import type { jobHandlers } from '../../realtime/job-handlers.js';
import type { OptionsStore } from './options-store.js';

/** Owner (client id) of the jobs queued through /sdapi/v1: the PWA's queue lists them under it. */
export const SDAPI_CLIENT_ID = 'sdapi';

export interface SdapiDeps {
  /** The socket's job handlers (capability check, model check, enqueue), reused as they are. */
  jobs: Pick<ReturnType<typeof jobHandlers>, 'generate' | 'upscale'>;
  schemas: ActionSchemas;
  queue: JobQueue;
  hub: JobEventHub;
  results: JobResults;
  options: OptionsStore;
  capabilities: () => WorkerCapabilities | undefined;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
  /** Lists the model folders again (refresh-checkpoints/loras/vae). */
  rescanModels: () => Promise<unknown>;
  modelsDir: string;
  dataDir: string;
  host: string;
  port: () => number;
  previewEvery: number;
  /** Send headers and a space this long into a synchronous job, then again at this interval. */
  keepAliveMs: number;
}

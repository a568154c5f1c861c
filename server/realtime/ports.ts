// What the socket handlers need from the rest of the server, as small interfaces: the composition
// root (server.ts) adapts the gallery store and signer to them, and tests can see the seams.
import type { GalleryImage, GalleryQuery } from '../protocol/gallery.js';
import type { WorkerCapabilities } from '../../native/worker-protocol.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Broadcaster } from '../jobs/job-runner.js';
import type { ModelEntry, ModelType } from '../protocol/actions.js';

/** The gallery as the protocol sees it: wire images with signed URLs. */
export interface GalleryPort {
  list(q: GalleryQuery): { items: GalleryImage[]; next_cursor: string | null };
  get(id: string): GalleryImage | undefined;
  /** Throws `not_found` when the id is unknown. */
  update(id: string, patch: { favorite?: boolean }): GalleryImage;
  delete(ids: string[]): Promise<{ deleted: string[]; missing: string[] }>;
}

export interface HandlerDeps {
  queue: JobQueue;
  /** The engine's current capabilities (undefined while it has never started). */
  capabilities: () => WorkerCapabilities | undefined;
  gallery: GalleryPort;
  events: Broadcaster;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
}

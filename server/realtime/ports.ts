// What the socket handlers need from the rest of the server, as small interfaces: the composition
// root (server.ts) adapts the gallery store and signer to them, and tests can see the seams.
import type { GalleryImage, GalleryQuery } from '../protocol/gallery.js';
import type { WorkerCapabilities } from '../../native/worker-protocol.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Broadcaster } from '../jobs/job-runner.js';
import type { ActionPayload, ModelEntry, ModelType, StarterModel } from '../protocol/actions.js';
import type { DownloadProgressEvent, DriveStatusEvent } from '../protocol/events.js';
import type { ControlNetService } from '../controlnet/controlnet-service.js';

/** The gallery as the protocol sees it: wire images with signed URLs. */
export interface GalleryPort {
  list(q: GalleryQuery): { items: GalleryImage[]; next_cursor: string | null };
  get(id: string): GalleryImage | undefined;
  /** Throws `not_found` when the id is unknown. */
  update(id: string, patch: { favorite?: boolean }): GalleryImage;
  delete(ids: string[]): Promise<{ deleted: string[]; missing: string[] }>;
}

/** Google Drive backup (server/drive/drive-service.ts). Progress arrives as `drive:status` events. */
export interface DriveControl {
  status(): DriveStatusEvent;
  /** Without a code: the consent URL; with one: finishes connecting. */
  connect(code?: string): Promise<{ auth_url?: string }>;
  disconnect(): Promise<void>;
  /** Throws drive_not_configured / drive_not_connected. */
  requireConnected(): void;
  sync(): { started: boolean };
  restore(): { started: boolean };
}

export type DownloadModelRequest = ActionPayload<'download_model'>;

/** Model downloads (server/models/download-manager.ts). Progress arrives as `download:progress` events. */
export interface DownloadsPort {
  /** Queues a download on the IO lane; throws invalid_params for a bad source before queueing. */
  start(req: DownloadModelRequest, clientId: string): { job_id: string };
  /** Throws not_found for an unknown or finished download. */
  cancel(jobId: string): { job_id: string; status: 'cancelling' };
  /** Downloads queued or running now, with their latest progress. */
  readonly active: DownloadProgressEvent[];
}

/** Prompt expansion on the engine worker (EngineSupervisor.enhance); partial text arrives through `onPartial`. */
export interface EnhancePort {
  enhance(
    requestId: string,
    params: Record<string, unknown>,
    cb: { signal: AbortSignal; onPartial(index: number, text: string): void },
  ): Promise<{ prompts: string[]; info: Record<string, unknown> }>;
}

export interface HandlerDeps {
  queue: JobQueue;
  /** The engine's current capabilities (undefined while it has never started). */
  capabilities: () => WorkerCapabilities | undefined;
  gallery: GalleryPort;
  events: Broadcaster;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
  /** Absent in tests that do not need Drive: the drive_* actions then answer drive_not_configured. */
  drive?: DriveControl;
  /** Absent in tests that do not need downloads: download_model then answers not_implemented. */
  downloads?: DownloadsPort;
  /** Absent in tests that do not need it: enhance_prompt then answers not_implemented. */
  enhancer?: EnhancePort;
  /** The starter-model catalog with availability on this server (absent: an empty list). */
  starterModels?: () => Promise<StarterModel[]>;
  /** ControlNet checks and previews (absent: ControlNet answers not_implemented). */
  controlnet?: Pick<ControlNetService, 'requireCapability' | 'checkUnits' | 'preprocess'>;
  /** The file of a gallery image (ControlNet units and previews may name one by id). */
  imageFile?: (id: string) => string | undefined;
}

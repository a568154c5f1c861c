// Payloads of every server-to-client event. Binary previews travel as bytes (Socket.IO binary
// attachments): the server sends a Uint8Array/Buffer, a browser receives an ArrayBuffer.
import type { ErrorCode } from './errors.js';
import type { GalleryImage } from './gallery.js';
import type { JobKind, JobPhase, JobStatus } from './jobs.js';

/** Sent to the owner right after a job enters the queue. */
export interface QueuedEvent {
  job_id: string;
  kind: JobKind;
  position: number;
}

/** The owner's jobs that are waiting or running, pushed whenever one of their positions changes. */
export interface QueueEvent {
  /** Monotonic per server process, so a client can drop out-of-order snapshots. */
  seq: number;
  jobs: { job_id: string; status: 'queued' | 'running'; position: number }[];
  /** Jobs waiting in the whole queue, all clients together. */
  queued_total: number;
}

/** Every state change of one job (queued → running → completed | failed | cancelled). */
export interface JobStatusEvent {
  seq: number;
  job_id: string;
  status: JobStatus;
  error?: { code: ErrorCode; message: string };
}

export interface ProgressEvent {
  job_id: string;
  step: number;
  total: number;
  /** `queued` only with `phase: 'queued'` (the job waits; `position` says where). */
  status: 'running' | 'queued';
  /** Seconds left for the whole job, phases still ahead included (once the server can estimate it). */
  eta_s?: number;
  /** What the job is doing now (docs/protocol.md, "Phases"). */
  phase?: JobPhase;
  /** 0..1 within the phase, where it can be known (loading_model stages, sampling step/total). */
  phase_progress?: number;
  /** One short line: "UNet: creating the session", "switching model to x.safetensors". */
  detail?: string;
  /** `queued`: 1-based place in the queue. */
  position?: number;
}

export interface PreviewEvent {
  job_id: string;
  step: number;
  mime: 'image/jpeg';
  data: Uint8Array | ArrayBuffer;
}

export interface CompleteEvent {
  job_id: string;
  images: GalleryImage[];
  /** The effective parameters the engine used (seed resolved, sampler ids, ...). */
  metadata: Record<string, unknown>;
}

export interface ErrorEvent {
  job_id?: string;
  code: ErrorCode;
  message: string;
}

export interface GalleryNewEvent {
  images: GalleryImage[];
}

export interface GalleryChangedEvent {
  updated?: GalleryImage[];
  deleted?: string[];
}

export interface DownloadProgressEvent {
  job_id: string;
  received_bytes: number;
  total_bytes: number | null;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  /** Bytes per second over the last seconds (0 before the first bytes). */
  speed_bps?: number;
  eta_s?: number | null;
  /** What was asked for, and once known the file name and model type it lands as. */
  source?: string;
  name?: string;
  type?: string;
  error?: { code: ErrorCode; message: string };
}

/** Where Google Drive backup stands (server/drive); broadcast on every change, also the ack of `drive_*` actions. */
export interface DriveStatusEvent {
  /**
   * disabled: no OAuth client or service-account key configured on the server; disconnected:
   * configured but not connected; connected: idle; error: the last sync or restore failed
   * (`last_error` says why; pending images stay pending and the next sync tries again).
   */
  state: 'disabled' | 'disconnected' | 'connected' | 'syncing' | 'restoring' | 'error';
  /** How the server authenticates to Drive, once connected. */
  auth: 'oauth' | 'service_account' | null;
  /** Gallery images not yet on Drive. */
  pending: number;
  /** ISO time of the last sync that finished without error. */
  last_sync_at: string | null;
  last_error: { code: ErrorCode; message: string; at: string } | null;
  /** The running or last restore of this server process. */
  restore: { state: 'running' | 'completed' | 'failed'; total: number; done: number; added: number } | null;
  /** One-line summary for simple displays. */
  message?: string;
}

/** The disk holding the gallery: `ok` false while it is full and new work is refused. */
export interface DiskStatus {
  ok: boolean;
  free_bytes: number | null;
  min_free_bytes: number;
  /** Why it counts as full (while not ok). */
  message?: string;
  /** ISO time it became full. */
  since?: string;
}

/** Server-wide health a client shows (sent on connect and whenever it changes). */
export interface ServerStatusEvent {
  disk: DiskStatus;
}

export interface ModelsChangedEvent {
  type?: string;
}

/** Streamed while `enhance_prompt` runs: the text of sequence `index` so far (prompt + continuation). */
export interface EnhancePartialEvent {
  request_id: string;
  index: number;
  text: string;
}

// The typed event maps shared by the server (socket.io) and the web app (socket.io-client):
// `new Server<ClientToServerEvents, ServerToClientEvents>()` / `io(url) as Socket<ServerToClientEvents, ClientToServerEvents>`.
import type { Ack, AckCallback } from './errors.js';
import type { ActionInput, ActionName, ActionResults } from './actions.js';
import type {
  CompleteEvent,
  DownloadProgressEvent,
  DriveStatusEvent,
  EnhancePartialEvent,
  ErrorEvent,
  GalleryChangedEvent,
  GalleryNewEvent,
  JobStatusEvent,
  ModelsChangedEvent,
  PreviewEvent,
  ProgressEvent,
  QueueEvent,
  QueuedEvent,
  ServerStatusEvent,
} from './events.js';

export * from './errors.js';
export * from './generation.js';
export * from './image-input.js';
export * from './actions.js';
export * from './events.js';
export * from './jobs.js';
export * from './enhance.js';
export * from './controlnet.js';
export * from './gallery.js';

/** The ack answer of one action. */
export type ActionAck<A extends ActionName> = Ack<ActionResults[A]>;

/** Every action: `(payload, ack)`. */
export type ClientToServerEvents = {
  [A in ActionName]: (payload: ActionInput<A>, ack: AckCallback<ActionResults[A]>) => void;
};

export interface ServerToClientEvents {
  queued: (e: QueuedEvent) => void;
  queue: (e: QueueEvent) => void;
  'job:status': (e: JobStatusEvent) => void;
  progress: (e: ProgressEvent) => void;
  preview: (e: PreviewEvent) => void;
  complete: (e: CompleteEvent) => void;
  error: (e: ErrorEvent) => void;
  'gallery:new': (e: GalleryNewEvent) => void;
  'gallery:changed': (e: GalleryChangedEvent) => void;
  'download:progress': (e: DownloadProgressEvent) => void;
  'drive:status': (e: DriveStatusEvent) => void;
  'models:changed': (e: ModelsChangedEvent) => void;
  'enhance:partial': (e: EnhancePartialEvent) => void;
  'server:status': (e: ServerStatusEvent) => void;
}

/** What the client puts in the Socket.IO handshake `auth`. */
export interface HandshakeAuth {
  token: string;
  /** Stable per browser install; lets a reconnecting client find its jobs. */
  client_id?: string;
}

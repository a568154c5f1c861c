// The wire types of the server's protocol module, imported as types only: nothing from server/
// is bundled into the app. Components import from here (or better, from the data/ calls), never
// from server/ directly, so a protocol change shows up in one place.
export type {
  Ack,
  ActionAck,
  ActionInput,
  ActionName,
  ActionResults,
  ClientToServerEvents,
  CompleteEvent,
  DiskStatus,
  DownloadProgressEvent,
  DriveStatusEvent,
  EnhancePartialEvent,
  ErrorCode,
  ErrorEvent,
  GalleryChangedEvent,
  GalleryImage,
  GalleryNewEvent,
  GalleryQuery,
  GenerationParamsInput,
  HandshakeAuth,
  JobStatusEvent,
  JobSummary,
  ModelEntry,
  ModelType,
  PreviewEvent,
  ProgressEvent,
  QueueEvent,
  QueuedEvent,
  ServerToClientEvents,
  StarterModel,
  WireError,
} from '../../../server/protocol/index.js';
/** What a running job is doing (`progress.phase`); the app's own JobPhase is the job's state. */
export type { JobPhase as ServerJobPhase } from '../../../server/protocol/index.js';

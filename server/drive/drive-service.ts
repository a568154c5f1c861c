// Drive backup as the rest of the server sees it: connect/disconnect, sync (every N seconds, on
// demand, and shortly after new images), restore, and the `drive:status` it broadcasts on every
// change. One operation runs at a time: a sync asked for during another sync or a restore is
// remembered and runs right after, so two syncs never overlap.
import type { Logger } from 'pino';
import type { GalleryStore } from '../gallery/gallery-store.js';
import type { DriveStatusEvent } from '../protocol/events.js';
import { EaselError, isEaselError } from '../protocol/errors.js';
import type { DriveAuth } from './auth.js';
import { createGoogleDrive, type DriveApi } from './drive-client.js';
import { DriveUploader, type IoRunner } from './drive-sync.js';
import { restoreFromDrive } from './restore.js';
import type { RetryOptions } from './retry.js';
import type { UploadLedger } from './upload-ledger.js';

export interface DriveServiceOptions {
  auth: DriveAuth;
  ledger: UploadLedger;
  gallery: Pick<GalleryStore, 'get' | 'filePath' | 'importImage'>;
  runIo: IoRunner;
  folderName: string;
  parentId: string;
  /** 0 = no automatic sync. */
  syncIntervalMs: number;
  /** Quiet time after a new image before the sync it triggers. */
  newImageDelayMs?: number;
  retry: Omit<RetryOptions, 'signal' | 'refreshAuth'>;
  apiRoot?: string;
  /** Pushes `drive:status` to every client. */
  broadcast: (status: DriveStatusEvent) => void;
  /** Told which images a restore added (the server announces them as gallery:new). */
  onRestored?: (ids: string[]) => void;
  logger: Logger;
  /** Tests swap the Drive API (default: @googleapis/drive over `auth`). */
  makeApi?: (auth: DriveAuth) => Promise<DriveApi>;
  /** Codes failures that are not Drive's (a full disk writing the ledger → insufficient_space). */
  classifyError?: (err: unknown) => EaselError | undefined;
}

type Operation = 'sync' | 'restore';
/** Status events during a long sync or restore: at most this often. */
const PROGRESS_EVERY_MS = 250;
const DEFAULT_NEW_IMAGE_DELAY_MS = 10_000;

export class DriveService {
  private readonly o: DriveServiceOptions;
  private running: { op: Operation; done: Promise<void> } | undefined;
  private syncAgain = false;
  private uploader: DriveUploader | undefined;
  private api: DriveApi | undefined;
  private lastSyncAt: string | null = null;
  private lastError: DriveStatusEvent['last_error'] = null;
  private restoreState: DriveStatusEvent['restore'] = null;
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastProgressAt = 0;
  private stopped = false;

  constructor(opts: DriveServiceOptions) {
    this.o = opts;
  }

  /** Starts the periodic sync (and one sync now when connected, to catch up after a restart). */
  start(): void {
    if (this.o.syncIntervalMs > 0) {
      this.interval = setInterval(() => {
        if (this.o.auth.connected) this.sync();
      }, this.o.syncIntervalMs);
      this.interval.unref();
    }
    if (this.o.auth.connected) this.sync();
  }

  /** Stops timers and waits for the running operation. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    await this.running?.done;
  }

  status(): DriveStatusEvent {
    const kind = this.o.auth.kind;
    const connected = kind !== null && this.o.auth.connected;
    const state: DriveStatusEvent['state'] =
      kind === null ? 'disabled' : !connected ? 'disconnected' : this.running?.op === 'sync' ? 'syncing' : this.running?.op === 'restore' ? 'restoring' : this.lastError ? 'error' : 'connected';
    // Images waiting for anything: their upload, or a favourite/deletion their Drive copy lacks.
    const pending = this.o.ledger.pendingCount() + this.o.ledger.pendingUpdateCount();
    const message =
      state === 'disabled'
        ? 'Drive backup is not configured on the server'
        : state === 'disconnected'
          ? 'Drive is not connected'
          : state === 'error'
            ? this.lastError!.message
            : `${pending} image${pending === 1 ? '' : 's'} waiting for Drive`;
    return { state, auth: connected ? kind : null, pending, last_sync_at: this.lastSyncAt, last_error: this.lastError, restore: this.restoreState, message };
  }

  private emit(): void {
    // After stop() the database may be closing; nobody is listening any more.
    if (this.stopped) return;
    this.lastProgressAt = Date.now();
    this.o.broadcast(this.status());
  }

  private progress(): void {
    if (Date.now() - this.lastProgressAt >= PROGRESS_EVERY_MS) this.emit();
  }

  private fail(err: unknown): void {
    // A local failure under a Drive one (the ledger on a full disk) is named for what it is.
    const local = this.o.classifyError?.(isEaselError(err) ? (err.cause ?? err) : err);
    const e = local ?? (isEaselError(err) ? err : new EaselError('drive_error', (err as Error).message));
    this.lastError = { code: e.code, message: e.message, at: new Date().toISOString() };
    this.o.logger.warn({ code: e.code, message: e.message }, 'drive backup failed');
  }

  /** Without a code: the consent URL. With one: finishes the connection and starts a sync. */
  async connect(code?: string): Promise<{ auth_url?: string }> {
    if (this.o.auth.kind === null) throw new EaselError('drive_not_configured', 'Drive backup is not configured on the server: set DRIVE_CLIENT_ID and DRIVE_CLIENT_SECRET, or DRIVE_SERVICE_ACCOUNT_KEY');
    if (this.o.auth.kind === 'service_account') {
      await this.o.auth.client();
      this.emit();
      return {};
    }
    if (code === undefined) return { auth_url: await this.o.auth.startConnect() };
    await this.o.auth.finishConnect(code);
    this.resetClient();
    this.lastError = null;
    this.emit();
    this.sync();
    return {};
  }

  async disconnect(): Promise<void> {
    if (this.o.auth.kind !== 'oauth') throw new EaselError('drive_not_configured', 'only an OAuth connection can be disconnected; a service account is set by the server config');
    await this.running?.done;
    await this.o.auth.disconnect();
    // Another account may connect next: its Drive has none of our uploads (lookups avoid duplicates anyway).
    this.o.ledger.clear();
    this.resetClient();
    this.lastError = null;
    this.lastSyncAt = null;
    this.emit();
  }

  private resetClient(): void {
    this.api = undefined;
    this.uploader = undefined;
  }

  private async driveApi(): Promise<DriveApi> {
    this.api ??= await (this.o.makeApi ?? ((auth) => auth.client().then((client) => createGoogleDrive({ auth: client, ...(this.o.apiRoot ? { rootUrl: this.o.apiRoot } : {}) }))))(this.o.auth);
    return this.api;
  }

  private retryOptions(): Omit<RetryOptions, 'signal'> {
    return { ...this.o.retry, refreshAuth: () => this.o.auth.forceRefresh() };
  }

  /** A sync after new images, once they stop coming for a moment. */
  notifyNewImages(): void {
    this.emit();
    this.syncSoon();
  }

  /**
   * update_image changed these images (favourite): those already on Drive get a metadata update at
   * the next sync. Images not uploaded yet need nothing; their upload reads the current row.
   */
  noteChanged(ids: readonly string[]): void {
    if (this.o.ledger.noteChanged(ids) === 0) return;
    this.emit();
    this.syncSoon();
  }

  /**
   * delete_images removed these images: their Drive copies (if any) are marked deleted at the next
   * sync, never removed. Images not uploaded yet simply stop being pending.
   */
  noteDeleted(ids: readonly string[]): void {
    if (this.o.ledger.noteDeleted(ids) === 0) return;
    this.emit();
    this.syncSoon();
  }

  private syncSoon(): void {
    if (!this.o.auth.connected || this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.sync(), this.o.newImageDelayMs ?? DEFAULT_NEW_IMAGE_DELAY_MS);
    this.debounce.unref();
  }

  /**
   * Starts a sync unless one is running (then one more runs after it). `done` settles when the
   * sync this call started ends; it never rejects (failures land in `last_error`).
   */
  sync(): { started: boolean; done: Promise<void> } {
    if (this.running) {
      this.syncAgain = true;
      return { started: false, done: this.running.done };
    }
    return { started: true, done: this.run('sync', () => this.doSync()) };
  }

  /** Starts a restore unless something is running. */
  restore(): { started: boolean; done: Promise<void> } {
    if (this.running) return { started: false, done: this.running.done };
    return { started: true, done: this.run('restore', () => this.doRestore()) };
  }

  /** Requires a connection before an operation starts, so the ack can say why not. */
  requireConnected(): void {
    if (this.o.auth.kind === null) throw new EaselError('drive_not_configured', 'Drive backup is not configured on the server');
    if (!this.o.auth.connected) throw new EaselError('drive_not_connected', 'Drive is not connected: use Connect first');
  }

  private run(op: Operation, body: () => Promise<void>): Promise<void> {
    // Marked running before the body starts, so the first status event already says so.
    const running = { op, done: Promise.resolve() };
    this.running = running;
    running.done = (async () => {
      this.emit();
      try {
        await body();
      } catch (err) {
        // Failures caused by the shutdown itself (IO lane closed) are not Drive errors.
        if (!this.stopped) this.fail(err);
      }
    })().finally(() => {
      this.running = undefined;
      this.emit();
      if (this.syncAgain && !this.stopped) {
        this.syncAgain = false;
        this.sync();
      }
    });
    return running.done;
  }

  private async doSync(): Promise<void> {
    const api = await this.driveApi();
    this.uploader ??= new DriveUploader({ api, gallery: this.o.gallery, ledger: this.o.ledger, retry: this.retryOptions(), runIo: this.o.runIo, folderName: this.o.folderName, parentId: this.o.parentId });
    const res = await this.uploader.syncAll(() => this.progress());
    if (res.error) throw res.error;
    this.lastError = null;
    this.lastSyncAt = new Date().toISOString();
    if (res.uploaded || res.found || res.updated) this.o.logger.info({ uploaded: res.uploaded, found: res.found, updated: res.updated }, 'drive sync finished');
  }

  private async doRestore(): Promise<void> {
    const api = await this.driveApi();
    this.restoreState = { state: 'running', total: 0, done: 0, added: 0 };
    try {
      const res = await restoreFromDrive(
        { api, gallery: this.o.gallery, ledger: this.o.ledger, retry: this.retryOptions(), runIo: this.o.runIo, folderName: this.o.folderName, parentId: this.o.parentId },
        (p) => {
          this.restoreState = { state: 'running', ...p };
          this.progress();
        },
      );
      this.restoreState = { state: res.failed.length ? 'failed' : 'completed', total: res.total, done: res.done, added: res.added };
      if (res.ids.length) this.o.onRestored?.(res.ids);
      if (res.failed.length) throw new EaselError(res.failed[0]!.code, `${res.failed.length} of ${res.total} images could not be restored: ${res.failed[0]!.message}`);
      this.lastError = null;
      this.o.logger.info({ total: res.total, added: res.added }, 'drive restore finished');
    } catch (err) {
      if (this.restoreState?.state === 'running') this.restoreState = { ...this.restoreState, state: 'failed' };
      throw err;
    }
  }
}

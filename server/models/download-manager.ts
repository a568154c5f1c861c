// Downloads as jobs of the server: each `download_model` gets an id, runs on the IO lane (so a
// burst waits for a slot and generation is never held up), reports `download:progress` to every
// client (the model library is shared, so every open model manager shows it), can be cancelled
// by id from any client, and ends with a registry rescan and `models:changed`.
import { randomUUID } from 'node:crypto';
import type { Broadcaster } from '../jobs/job-runner.js';
import type { IoLane } from '../jobs/io-lane.js';
import type { DownloadProgressEvent } from '../protocol/events.js';
import { EaselError, isEaselError } from '../protocol/errors.js';
import type { DownloadModelRequest, DownloadsPort } from '../realtime/ports.js';
import { checkDownloadRequest, downloadModel, type DownloadOptions, type DownloadRequest, type DownloadResult } from './downloads/index.js';

export interface DownloadManagerDeps {
  lane: Pick<IoLane, 'run'>;
  events: Broadcaster;
  /** Rescans the registry; true when it found a change (and broadcast `models:changed` itself). */
  rescan: () => Promise<boolean>;
  /** Everything but the per-download parts. */
  options: Omit<DownloadOptions, 'signal' | 'onProgress' | 'onResolved'>;
  /** Injected in tests; default downloadModel. */
  download?: (req: DownloadRequest, opts: DownloadOptions) => Promise<DownloadResult>;
  onFinished?: (jobId: string, outcome: { result?: DownloadResult; error?: unknown }) => void;
  /** Codes unexpected failures (full disk → insufficient_space) and strips server paths. */
  failures?: { classify(err: unknown): EaselError | undefined; redact(text: string): string };
  /** Refuses a new download up front (throws a coded error), e.g. while the disk is full. */
  admit?: () => void;
}

interface Running {
  controller: AbortController;
  last: DownloadProgressEvent;
  emit: (e: Partial<DownloadProgressEvent>) => void;
}

export class DownloadManager implements DownloadsPort {
  private readonly running = new Map<string, Running>();
  private readonly download: (req: DownloadRequest, opts: DownloadOptions) => Promise<DownloadResult>;

  constructor(private readonly deps: DownloadManagerDeps) {
    this.download = deps.download ?? downloadModel;
  }

  /** Downloads queued or running now, with their latest progress (for a client that just connected). */
  get active(): DownloadProgressEvent[] {
    return [...this.running.values()].map((r) => r.last);
  }

  start(req: DownloadModelRequest, _clientId: string): { job_id: string } {
    checkDownloadRequest(req);
    this.deps.admit?.();
    const jobId = `dl_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const controller = new AbortController();
    const base = { job_id: jobId, source: req.source, type: req.type };
    let finished = false;
    const emit = (e: Partial<DownloadProgressEvent>): void => {
      if (finished) return;
      entry.last = { ...entry.last, ...e };
      finished = ['completed', 'failed', 'cancelled'].includes(entry.last.status);
      this.deps.events.toAll('download:progress', entry.last);
    };
    const entry: Running = { controller, last: { ...base, received_bytes: 0, total_bytes: null, status: 'queued' }, emit };
    this.running.set(jobId, entry);
    emit({});
    const request: DownloadRequest = { source: req.source, type: req.type };
    if (req.filename !== undefined) request.filename = req.filename;
    if (req.sha256 !== undefined) request.sha256 = req.sha256;
    if (req.revision !== undefined) request.revision = req.revision;

    void this.deps.lane
      .run(async (laneSignal) => {
        if (controller.signal.aborted) throw new EaselError('cancelled', 'the download was cancelled');
        emit({ status: 'running' });
        return this.download(request, {
          ...this.deps.options,
          signal: AbortSignal.any([controller.signal, laneSignal]),
          onResolved: (info) => emit({ name: info.name, type: info.type, total_bytes: info.total_bytes }),
          onProgress: (p) => emit({ status: 'running', ...p }),
        });
      })
      .then(
        async (result) => {
          this.running.delete(jobId);
          emit({ status: 'completed', name: result.name, type: result.type, received_bytes: result.size_bytes, total_bytes: result.size_bytes, eta_s: 0 });
          this.deps.onFinished?.(jobId, { result });
          const changed = await this.deps.rescan().catch(() => false);
          // The watcher may have seen the file first; clients still hear about it once more.
          if (!changed) this.deps.events.toAll('models:changed', { type: result.type });
        },
        (err: unknown) => {
          this.running.delete(jobId);
          const cancelled = controller.signal.aborted || (isEaselError(err) && err.code === 'cancelled');
          const coded = isEaselError(err) ? err : this.deps.failures?.classify(err);
          const wire = coded ? coded.toWire() : { code: 'download_failed' as const, message: err instanceof Error ? err.message : String(err) };
          if (this.deps.failures) wire.message = this.deps.failures.redact(wire.message);
          emit(cancelled ? { status: 'cancelled', error: { code: 'cancelled', message: 'the download was cancelled' } } : { status: 'failed', error: { code: wire.code, message: wire.message } });
          this.deps.onFinished?.(jobId, { error: err });
        },
      );
    return { job_id: jobId };
  }

  cancel(jobId: string): { job_id: string; status: 'cancelling' } {
    const entry = this.running.get(jobId);
    if (!entry) throw new EaselError('not_found', `no download ${jobId} is queued or running`, { field: 'job_id' });
    entry.controller.abort();
    // A queued download may wait long for its slot: say it is cancelled now.
    if (entry.last.status === 'queued') {
      this.running.delete(jobId);
      entry.emit({ status: 'cancelled', error: { code: 'cancelled', message: 'the download was cancelled' } });
    }
    return { job_id: jobId, status: 'cancelling' };
  }

  /** Aborts every download (shutdown). */
  close(): void {
    for (const r of this.running.values()) r.controller.abort();
  }
}

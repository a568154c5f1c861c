// The job the Generate tab is following: submit, then follow `queued` / `queue` / `job:status` /
// `progress` / `preview` / `complete` / `error` for that job id, and expose one JobView the preview
// and progress components render. A reconnect changes nothing here: events resume for the same id.
// Events: `change` on every update, `failed` (CustomEvent<EaselClientError>) once per failed job.
import type { ConnectionManager } from './connection.js';
import { EaselClientError } from './errors.js';
import type { ActionInput, GalleryImage, GenerationParamsInput, JobStatusEvent, ProgressEvent, ServerJobPhase } from './protocol.js';

export type JobPhase = 'waiting_connection' | 'submitting' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobView {
  jobId: string | null;
  phase: JobPhase;
  /** 1-based queue position while queued. */
  position: number | null;
  step: number;
  total: number;
  etaS: number | null;
  /** Object URL of the latest preview JPEG. */
  previewUrl: string | null;
  images: GalleryImage[];
  error: EaselClientError | null;
  startedAt: number;
  /** What the server says the job is doing (progress `phase`), its fraction and one-line detail. */
  serverPhase?: ServerJobPhase;
  phaseProgress?: number | null;
  detail?: string | null;
}

/** The JobView fields one `progress` event sets (a queued one keeps the job queued). */
export function progressPatch(e: ProgressEvent): Partial<JobView> {
  const phase = { serverPhase: e.phase, phaseProgress: e.phase_progress ?? null, detail: e.detail ?? null, etaS: e.eta_s ?? null };
  if (e.status === 'queued') return { phase: 'queued', position: e.position ?? null, ...phase };
  return { phase: 'running', position: 0, step: e.step, total: e.total, ...phase };
}

const FINISHED: readonly JobPhase[] = ['completed', 'failed', 'cancelled'];

export class JobTracker extends EventTarget {
  private view: JobView | null = null;
  private lastSeedValue: number | null = null;
  private lastStatusSeq = 0;
  /** Events that arrived before the generate ack, by job id. */
  private readonly early = new Map<string, Partial<JobView>>();

  constructor(private readonly conn: ConnectionManager) {
    super();
    conn.on('queued', (e) => this.patch(e.job_id, { phase: 'queued', position: e.position }, true));
    conn.on('queue', (e) => {
      for (const j of e.jobs) this.patch(j.job_id, j.status === 'running' ? { phase: 'running', position: 0 } : { phase: 'queued', position: j.position });
    });
    conn.on('job:status', (e) => this.onStatus(e));
    conn.on('progress', (e) => this.patch(e.job_id, progressPatch(e)));
    conn.on('preview', (e) => {
      if (!this.isCurrent(e.job_id)) return;
      const bytes = e.data instanceof ArrayBuffer ? new Uint8Array(e.data) : e.data;
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: e.mime }));
      if (this.view?.previewUrl) URL.revokeObjectURL(this.view.previewUrl);
      // Previews lag behind progress (the engine encodes them after the step): never move the step back.
      this.patch(e.job_id, { previewUrl: url });
    });
    conn.on('complete', (e) => {
      const seed = e.images[0]?.seed;
      if (this.isCurrent(e.job_id) && typeof seed === 'number') this.lastSeedValue = seed;
      this.patch(e.job_id, { phase: 'completed', images: e.images, position: null });
    });
    conn.on('error', (e) => {
      if (e.job_id) this.patch(e.job_id, { phase: 'failed', error: new EaselClientError(e.code, e.message) });
    });
  }

  get current(): JobView | null {
    return this.view;
  }

  /** Seed of the last finished image, for "reuse last seed". */
  get lastSeed(): number | null {
    return this.lastSeedValue;
  }

  get busy(): boolean {
    return this.view !== null && !FINISHED.includes(this.view.phase);
  }

  /**
   * Submits a generation; resolves once it is queued. Rejects with the server's error
   * (`engine_unavailable`, `invalid_params` with its field, `rate_limited`, ...).
   */
  async generate(params: GenerationParamsInput): Promise<void> {
    return this.submit(() => this.conn.request('generate', params), params.steps ?? 0);
  }

  /** "Fix faces/hands": an `adetailer` job on a gallery image, followed like a generation. */
  async adetailer(payload: ActionInput<'adetailer'>): Promise<void> {
    return this.submit(() => this.conn.request('adetailer', payload), 0);
  }

  private async submit(send: () => Promise<{ job_id: string; position: number }>, total: number): Promise<void> {
    const waiting = this.conn.state !== 'connected';
    this.set({
      jobId: null,
      phase: waiting ? 'waiting_connection' : 'submitting',
      position: null,
      step: 0,
      total,
      etaS: null,
      previewUrl: null,
      images: [],
      error: null,
      startedAt: Date.now(),
    });
    try {
      const res = await send();
      const phase = this.view?.jobId === res.job_id ? this.view.phase : 'queued';
      const early = this.early.get(res.job_id);
      this.early.clear();
      this.set({ ...this.view!, jobId: res.job_id, phase, position: res.position, ...early });
    } catch (err) {
      const error = err instanceof EaselClientError ? err : new EaselClientError('internal', String(err));
      this.set({ ...this.view!, phase: 'failed', error });
      throw error;
    }
  }

  async cancel(): Promise<void> {
    const id = this.view?.jobId;
    if (!id || !this.busy) return;
    await this.conn.request('cancel', { job_id: id }, { queue: false });
    this.patch(id, { phase: 'cancelled' });
  }

  /** Seconds left: the server's estimate, or one from the elapsed time per step. */
  etaSeconds(now = Date.now()): number | null {
    const v = this.view;
    if (!v || (v.phase !== 'running' && v.phase !== 'queued')) return null;
    if (v.etaS !== null) return v.etaS;
    if (v.phase === 'queued') return null;
    if (v.step <= 0 || v.total <= 0) return null;
    return Math.max(0, ((now - v.startedAt) / v.step) * (v.total - v.step)) / 1000;
  }

  private onStatus(e: JobStatusEvent): void {
    if (e.seq <= this.lastStatusSeq && this.isCurrent(e.job_id)) return;
    this.lastStatusSeq = e.seq;
    const patch: Partial<JobView> = { phase: e.status };
    if (e.error) patch.error = new EaselClientError(e.error.code, e.error.message);
    this.patch(e.job_id, patch);
  }

  private isCurrent(jobId: string): boolean {
    return this.view !== null && this.view.jobId === jobId;
  }

  private patch(jobId: string, patch: Partial<JobView>, adopt = false): void {
    if (!this.view) return;
    if (this.view.jobId === null && this.view.phase === 'submitting') {
      // `queued` can beat the generate ack: adopt its id. Other early events are kept until the
      // ack says which job is ours.
      if (adopt) this.view = { ...this.view, jobId };
      else this.early.set(jobId, { ...this.early.get(jobId), ...patch });
    }
    if (!this.isCurrent(jobId)) return;
    if (FINISHED.includes(this.view.phase) && patch.phase && !FINISHED.includes(patch.phase)) return;
    this.set({ ...this.view, ...patch });
  }

  private set(v: JobView): void {
    const wasFailed = this.view?.phase === 'failed';
    this.view = v;
    this.dispatchEvent(new Event('change'));
    // One `failed` event per job, whether the ack refused it or the engine failed it later.
    if (v.phase === 'failed' && !wasFailed && v.error) this.dispatchEvent(new CustomEvent('failed', { detail: v.error }));
  }
}

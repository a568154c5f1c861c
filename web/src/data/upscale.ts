// The `upscale` action from the PWA: the upscaler choices (A1111's model-free Lanczos / Nearest plus
// the files in $MODELS_DIR/upscalers), the last choices remembered, and one job followed by id
// through `queued` / `progress` (one step per tile) / `complete` / `error` / `job:status`.
import type { ConnectionManager } from './connection.js';
import { EaselClientError } from './errors.js';
import type { GalleryImage, ModelEntry } from './protocol.js';

export const BUILTIN_UPSCALERS = ['Lanczos', 'Nearest'] as const;
export const DEFAULT_UPSCALE = { upscaler: 'Lanczos', scale: 2, tile: 192 };
const STORAGE_KEY = 'easel.upscale';

export interface UpscaleChoice {
  /** What the action takes: a built-in name or the registry name (file name) of the model. */
  value: string;
  label: string;
}

/** Built-ins first, then the installed upscaler files by their stem (A1111's names). */
export function upscalerChoices(entries: readonly ModelEntry[]): UpscaleChoice[] {
  const files = entries
    // The engine reads these (native/upscale UPSCALER_EXTENSIONS); an .onnx or .bin there is not offered.
    .filter((m) => m.type === 'upscaler' && /\.(pth|pt|ckpt|safetensors)$/i.test(m.name))
    .map((m) => ({ value: m.name, label: m.name.replace(/^.*\//, '').replace(/\.[^.]+$/, '') }));
  return [...BUILTIN_UPSCALERS.map((b) => ({ value: b, label: b })), ...files];
}

export interface UpscaleSettings {
  upscaler: string;
  scale: number;
  tile: number;
}

export function loadUpscaleSettings(storage: Pick<Storage, 'getItem'>): UpscaleSettings {
  try {
    const v = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as Partial<UpscaleSettings>;
    return {
      upscaler: typeof v.upscaler === 'string' && v.upscaler ? v.upscaler : DEFAULT_UPSCALE.upscaler,
      scale: typeof v.scale === 'number' && v.scale >= 1 && v.scale <= 8 ? v.scale : DEFAULT_UPSCALE.scale,
      tile: typeof v.tile === 'number' && Number.isInteger(v.tile) && v.tile >= 0 && v.tile <= 2048 ? v.tile : DEFAULT_UPSCALE.tile,
    };
  } catch {
    return { ...DEFAULT_UPSCALE };
  }
}

export function saveUpscaleSettings(storage: Pick<Storage, 'setItem'>, s: UpscaleSettings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(s));
}

export type UpscalePhase = 'submitting' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface UpscaleView {
  jobId: string | null;
  phase: UpscalePhase;
  position: number | null;
  /** Tiles done and in all. */
  done: number;
  total: number;
  image: GalleryImage | null;
  error: EaselClientError | null;
}

/** One upscale job of a gallery image, followed until it ends. Events: `change`. */
export class UpscaleJob extends EventTarget {
  view: UpscaleView = { jobId: null, phase: 'submitting', position: null, done: 0, total: 0, image: null, error: null };
  private readonly off: Array<() => void> = [];

  constructor(private readonly conn: ConnectionManager) {
    super();
    this.off.push(
      conn.on('queued', (e) => {
        // `queued` is sent before the action's ack: adopt the id of the upscale job we are submitting.
        if (this.view.jobId === null && this.view.phase === 'submitting' && e.kind === 'upscale') this.view = { ...this.view, jobId: e.job_id };
        this.patch(e.job_id, { phase: 'queued', position: e.position });
      }),
      conn.on('progress', (e) => this.patch(e.job_id, { phase: 'running', position: null, done: e.step, total: e.total })),
      conn.on('complete', (e) => this.patch(e.job_id, { phase: 'completed', image: e.images[0] ?? null })),
      conn.on('error', (e) => {
        if (e.job_id) this.patch(e.job_id, { phase: 'failed', error: new EaselClientError(e.code, e.message) });
      }),
      conn.on('job:status', (e) => {
        if (e.status === 'cancelled' || e.status === 'failed') {
          this.patch(e.job_id, { phase: e.status, ...(e.error ? { error: new EaselClientError(e.error.code, e.error.message) } : {}) });
        }
      }),
    );
  }

  get finished(): boolean {
    return ['completed', 'failed', 'cancelled'].includes(this.view.phase);
  }

  async start(image: GalleryImage, s: UpscaleSettings): Promise<void> {
    try {
      const res = await this.conn.request('upscale', { image_id: image.id, upscaler: s.upscaler, scale: s.scale, tile: s.tile });
      const adopted = this.view.jobId === res.job_id;
      this.set({ jobId: res.job_id, ...(adopted ? {} : { phase: 'queued', position: res.position }) });
    } catch (err) {
      this.set({ phase: 'failed', error: err instanceof EaselClientError ? err : new EaselClientError('internal', String(err)) });
    }
  }

  async cancel(): Promise<void> {
    if (!this.view.jobId || this.finished) return;
    await this.conn.request('cancel', { job_id: this.view.jobId }, { queue: false });
    this.set({ phase: 'cancelled' });
  }

  dispose(): void {
    for (const f of this.off.splice(0)) f();
  }

  private patch(jobId: string, patch: Partial<UpscaleView>): void {
    if (this.view.jobId !== jobId || this.finished) return;
    this.set(patch);
  }

  private set(patch: Partial<UpscaleView>): void {
    this.view = { ...this.view, ...patch };
    this.dispatchEvent(new Event('change'));
  }
}

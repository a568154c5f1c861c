// <easel-model-manager>: the models on the server (type, size, family, A1111 short hash), a
// download form (source: https URL, hf:owner/repo/path or civitai:<versionId>; type; optional
// file name) and the live downloads of every client (`download:progress`: bytes, total, speed,
// ETA, a cancel button, the error of a failed one). The list refreshes on `models:changed`.
//
// Public surface: none beyond the element; reads data/services and data/models.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toast, toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import {
  cancelDownload,
  DOWNLOAD_SOURCE,
  FINISHED_DOWNLOAD_TTL_MS,
  formatBytes,
  formatEta,
  formatSpeed,
  listModels,
  MODEL_TYPE_LABELS,
  onDownloadProgress,
  onModelsChanged,
  startDownload,
} from '../../data/models.js';
import type { DownloadProgressEvent, ModelEntry, ModelType } from '../../data/protocol.js';
import { connection } from '../../data/services.js';
import { controls } from '../shared/styles.js';

const FAMILY_LABELS: Record<string, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', 'sd2-v': 'SD 2.x (v)', sdxl: 'SDXL' };
const ACTIVE = new Set(['queued', 'running']);

@customElement('easel-model-manager')
export class EaselModelManager extends LitElement {
  static override styles = [
    controls,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0 0 12px;
        display: grid;
        gap: 4px;
      }
      li {
        display: flex;
        justify-content: space-between;
        gap: 8px;
        padding: 8px 10px;
        background: var(--surface-2);
        border-radius: 8px;
        font-size: 0.9rem;
        overflow-wrap: anywhere;
      }
      form {
        display: grid;
        gap: 10px;
      }
      progress {
        width: 100%;
        height: 10px;
        accent-color: var(--accent);
      }
      .dl {
        font-size: 0.85rem;
        margin-top: 8px;
      }
      .dl-head {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 8px;
      }
      .dl-head button {
        min-height: 32px;
        padding: 2px 10px;
      }
      .hash {
        font-family: ui-monospace, monospace;
      }
    `,
  ];

  @state() private models: ModelEntry[] = [];
  @state() private downloads = new Map<string, DownloadProgressEvent>();
  @state() private source = '';
  @state() private type: ModelType = 'checkpoint';
  @state() private filename = '';
  @state() private sourceError: string | undefined;

  private readonly conn = new ConnectionController(this, (s) => s === 'connected' && void this.refresh());
  private readonly unsub: (() => void)[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsub.push(
      onDownloadProgress(connection, (e) => {
        const before = this.downloads.get(e.job_id)?.status;
        const next = new Map(this.downloads);
        next.set(e.job_id, e);
        this.downloads = next;
        if (before === e.status || ACTIVE.has(e.status)) return;
        if (e.status === 'completed') toast(`Downloaded ${e.name ?? 'the model'}`, 'success');
        if (e.status === 'failed') toast(`Download failed: ${e.error?.message ?? 'unknown error'}`, 'error');
        // Finished rows linger a little so the outcome can be read, then go.
        setTimeout(() => {
          if (this.downloads.get(e.job_id)?.status !== e.status) return;
          const pruned = new Map(this.downloads);
          pruned.delete(e.job_id);
          this.downloads = pruned;
        }, FINISHED_DOWNLOAD_TTL_MS);
      }),
      onModelsChanged(connection, () => void this.refresh()),
    );
    if (this.conn.connected) void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const u of this.unsub.splice(0)) u();
  }

  private async refresh(): Promise<void> {
    try {
      this.models = await listModels(connection);
    } catch (err) {
      toastError(err);
    }
  }

  private async onSubmit(e: Event): Promise<void> {
    e.preventDefault();
    const source = this.source.trim();
    if (!DOWNLOAD_SOURCE.test(source)) {
      this.sourceError = 'must be an https URL, hf:owner/repo/path or civitai:<versionId>';
      return;
    }
    this.sourceError = undefined;
    try {
      const jobId = await startDownload(connection, { source, type: this.type, ...(this.filename.trim() ? { filename: this.filename.trim() } : {}) });
      const next = new Map(this.downloads);
      if (!next.has(jobId)) next.set(jobId, { job_id: jobId, source, received_bytes: 0, total_bytes: null, status: 'queued' });
      this.downloads = next;
      this.source = '';
      this.filename = '';
    } catch (err) {
      toastError(err);
    }
  }

  private async onCancel(jobId: string): Promise<void> {
    try {
      await cancelDownload(connection, jobId);
    } catch (err) {
      toastError(err);
    }
  }

  private renderModel(m: ModelEntry) {
    const family = m.family && m.family !== 'unknown' ? FAMILY_LABELS[m.family] ?? m.family : '';
    const hash = m.short_hash ?? (m.hash_pending ? 'hashing…' : '');
    const title = m.metadata?.trigger_words?.length ? `trigger words: ${m.metadata.trigger_words.join(', ')}` : '';
    return html`<li title=${title}>
      <span>${m.name}</span>
      <span class="muted">${[MODEL_TYPE_LABELS[m.type], family, formatBytes(m.size_bytes)].filter(Boolean).join(' · ')}${hash ? html` · <span class="hash">${hash}</span>` : nothing}</span>
    </li>`;
  }

  private renderDownload(d: DownloadProgressEvent) {
    const label = d.name ?? d.source ?? d.job_id;
    const sizes = `${formatBytes(d.received_bytes)}${d.total_bytes ? ` of ${formatBytes(d.total_bytes)}` : ''}`;
    const live = d.status === 'running' ? [formatSpeed(d.speed_bps), formatEta(d.eta_s) && `${formatEta(d.eta_s)} left`].filter(Boolean).join(' · ') : '';
    return html`<div class="dl" data-testid="download" data-status=${d.status}>
      <div class="dl-head">
        <span>${label}: ${d.status} · ${sizes}${live ? ` · ${live}` : ''}</span>
        ${ACTIVE.has(d.status) ? html`<button type="button" @click=${() => void this.onCancel(d.job_id)}>Cancel</button>` : nothing}
      </div>
      <progress max=${d.total_bytes ?? 1} .value=${d.total_bytes ? d.received_bytes : d.status === 'completed' ? 1 : 0}></progress>
      ${d.status === 'failed' && d.error ? html`<div class="error-text">${d.error.message}</div>` : nothing}
    </div>`;
  }

  override render() {
    const types = Object.keys(MODEL_TYPE_LABELS) as ModelType[];
    return html`
      ${!this.conn.connected ? html`<p class="muted">Connect to the server to see its models.</p>` : nothing}
      ${this.conn.connected && this.models.length === 0 ? html`<p class="muted">No models on the server yet.</p>` : nothing}
      <ul data-testid="models">
        ${this.models.map((m) => this.renderModel(m))}
      </ul>
      <form @submit=${this.onSubmit} novalidate>
        <div class="field ${this.sourceError ? 'invalid' : ''}">
          <label for="m-source">Download from</label>
          <input id="m-source" placeholder="https://civitai.com/models/…, hf:owner/repo/file.safetensors or civitai:123456" .value=${this.source} @input=${(e: Event) => (this.source = (e.target as HTMLInputElement).value)} />
          ${this.sourceError ? html`<div class="error-text">${this.sourceError}</div>` : nothing}
        </div>
        <div class="grid2">
          <div class="field">
            <label for="m-type">Type</label>
            <select id="m-type" @change=${(e: Event) => (this.type = (e.target as HTMLSelectElement).value as ModelType)}>
              ${types.map((t) => html`<option value=${t} ?selected=${t === this.type}>${MODEL_TYPE_LABELS[t]}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="m-filename">File name (optional)</label>
            <input id="m-filename" .value=${this.filename} @input=${(e: Event) => (this.filename = (e.target as HTMLInputElement).value)} />
          </div>
        </div>
        <button type="submit" class="primary" ?disabled=${!this.conn.connected} title=${this.conn.connected ? '' : 'Connect to the server first'}>Download to the server</button>
      </form>
      ${[...this.downloads.values()].map((d) => this.renderDownload(d))}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-model-manager': EaselModelManager;
  }
}

// <easel-model-manager>: the models on the server by type, a download form (source: https URL,
// hf:owner/repo/path or civitai:<versionId>; type; optional file name) and the live progress of
// downloads (`download:progress`). The list refreshes on `models:changed`.
//
// Public surface: none beyond the element; reads data/services and data/models.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toast, toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { formatBytes, listModels, MODEL_TYPE_LABELS, onDownloadProgress, onModelsChanged, startDownload } from '../../data/models.js';
import type { DownloadProgressEvent, ModelEntry, ModelType } from '../../data/protocol.js';
import { connection } from '../../data/services.js';
import { controls } from '../shared/styles.js';

const SOURCE_PATTERN = /^(https:\/\/\S+|hf:[\w.-]+\/[\w.-]+\/\S+|civitai:\d+)$/;

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
        const next = new Map(this.downloads);
        next.set(e.job_id, e);
        this.downloads = next;
        if (e.status === 'completed') toast('Download finished', 'success');
        if (e.status === 'failed') toast('Download failed', 'error');
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
    if (!SOURCE_PATTERN.test(source)) {
      this.sourceError = 'must be an https URL, hf:owner/repo/path or civitai:<versionId>';
      return;
    }
    this.sourceError = undefined;
    try {
      const jobId = await startDownload(connection, { source, type: this.type, ...(this.filename.trim() ? { filename: this.filename.trim() } : {}) });
      const next = new Map(this.downloads);
      next.set(jobId, { job_id: jobId, received_bytes: 0, total_bytes: null, status: 'running' });
      this.downloads = next;
      this.source = '';
      this.filename = '';
    } catch (err) {
      toastError(err);
    }
  }

  override render() {
    const types = Object.keys(MODEL_TYPE_LABELS) as ModelType[];
    return html`
      ${!this.conn.connected ? html`<p class="muted">Connect to the server to see its models.</p>` : nothing}
      ${this.conn.connected && this.models.length === 0 ? html`<p class="muted">No models on the server yet.</p>` : nothing}
      <ul data-testid="models">
        ${this.models.map((m) => html`<li><span>${m.name}</span><span class="muted">${MODEL_TYPE_LABELS[m.type]} · ${formatBytes(m.size_bytes)}</span></li>`)}
      </ul>
      <form @submit=${this.onSubmit} novalidate>
        <div class="field ${this.sourceError ? 'invalid' : ''}">
          <label for="m-source">Download from</label>
          <input id="m-source" placeholder="https://…, hf:owner/repo/file.safetensors or civitai:123456" .value=${this.source} @input=${(e: Event) => (this.source = (e.target as HTMLInputElement).value)} />
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
        <button type="submit" class="primary" ?disabled=${!this.conn.connected}>Download to the server</button>
      </form>
      ${[...this.downloads.values()].map(
        (d) => html`<div class="dl">
          <div>${d.job_id}: ${d.status} · ${formatBytes(d.received_bytes)}${d.total_bytes ? ` of ${formatBytes(d.total_bytes)}` : ''}</div>
          <progress max=${d.total_bytes ?? 1} .value=${d.total_bytes ? d.received_bytes : d.status === 'completed' ? 1 : 0}></progress>
        </div>`,
      )}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-model-manager': EaselModelManager;
  }
}

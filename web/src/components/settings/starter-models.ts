// <easel-starter-models>: the server's starter-model catalog, one tap per model. Each entry shows
// what it is for, family, size, licence and source; an entry this server cannot run yet shows why
// (one line) instead of a download button; a download shows its progress in place and, once done,
// the entry says "Installed" (the model list refreshes through `models:changed`).
//
// Public surface: property `firstRun` (boolean): only the checkpoints that can be downloaded here,
// under a "get a model to start" heading (the Generate tab with no checkpoint).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { formatBytes, onDownloadProgress, onModelsChanged } from '../../data/models.js';
import type { DownloadProgressEvent, StarterModel } from '../../data/protocol.js';
import { connection } from '../../data/services.js';
import { downloadStarter, firstRunChoices, listStarterModels } from '../../data/starter-models.js';
import { controls } from '../shared/styles.js';

const ACTIVE = new Set(['queued', 'running']);
const FAMILY_LABELS: Record<string, string> = { sd1: 'SD 1.x', sdxl: 'SDXL', upscaler: 'Upscaler', detector: 'Detector', gpt2: 'GPT-2' };

@customElement('easel-starter-models')
export class EaselStarterModels extends LitElement {
  static override styles = [
    controls,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 8px;
      }
      li {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 4px 12px;
        align-items: center;
        padding: 10px 12px;
        background: var(--surface-2);
        border-radius: 10px;
        font-size: 0.9rem;
      }
      li[data-available='false'] {
        opacity: 0.75;
      }
      .name {
        font-weight: 600;
      }
      .desc,
      .meta,
      .why {
        grid-column: 1 / -1;
        overflow-wrap: anywhere;
      }
      .meta,
      .why {
        font-size: 0.8rem;
      }
      progress {
        grid-column: 1 / -1;
        width: 100%;
        height: 8px;
        accent-color: var(--accent);
      }
      h3 {
        margin: 0 0 6px;
        font-size: 1.05rem;
      }
      p {
        margin: 0 0 10px;
      }
    `,
  ];

  @property({ type: Boolean }) firstRun = false;
  @state() private models: StarterModel[] = [];
  /** Latest download progress by source (downloads started here or by another client). */
  @state() private progress = new Map<string, DownloadProgressEvent>();

  private readonly conn = new ConnectionController(this, (s) => s === 'connected' && void this.refresh());
  private readonly unsub: (() => void)[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsub.push(
      onDownloadProgress(connection, (e) => {
        if (!e.source || !this.models.some((m) => m.source === e.source)) return;
        const next = new Map(this.progress);
        next.set(e.source, e);
        this.progress = next;
        if (e.status === 'failed' && e.error) toastError(new Error(`Download failed: ${e.error.message}`));
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
      this.models = await listStarterModels(connection);
    } catch (err) {
      toastError(err);
    }
  }

  private async download(m: StarterModel): Promise<void> {
    const next = new Map(this.progress);
    next.set(m.source, { job_id: '', source: m.source, received_bytes: 0, total_bytes: m.size_bytes, status: 'queued' });
    this.progress = next;
    try {
      await downloadStarter(connection, m);
    } catch (err) {
      const back = new Map(this.progress);
      back.delete(m.source);
      this.progress = back;
      toastError(err);
    }
  }

  private renderAction(m: StarterModel, p: DownloadProgressEvent | undefined) {
    if (m.installed) return html`<span class="muted" data-testid="starter-installed">Installed</span>`;
    if (p && ACTIVE.has(p.status)) {
      const pct = p.total_bytes ? Math.floor((100 * p.received_bytes) / p.total_bytes) : 0;
      return html`<span class="muted" data-testid="starter-progress">${p.status === 'queued' ? 'Waiting…' : `${pct} %`}</span>`;
    }
    if (p?.status === 'completed') return html`<span class="muted" data-testid="starter-installed">Installed</span>`;
    const why = m.available ? '' : m.unavailable_reason ?? 'not available on this server';
    return html`<button
      class=${m.recommended ? 'primary' : ''}
      data-testid="starter-download"
      ?disabled=${!m.available || !this.conn.connected}
      title=${why || (this.conn.connected ? `Download ${m.name} (${formatBytes(m.size_bytes)}) to the server` : 'Connect to the server first')}
      @click=${() => void this.download(m)}
    >
      Download
    </button>`;
  }

  private renderEntry(m: StarterModel) {
    const p = this.progress.get(m.source);
    const family = FAMILY_LABELS[m.family] ?? m.family;
    return html`<li data-testid="starter" data-id=${m.id} data-available=${String(m.available)}>
      <span><span class="name">${m.name}</span>${m.recommended ? html` <span class="muted">· recommended</span>` : nothing}</span>
      ${this.renderAction(m, p)}
      <span class="desc">${m.feature}: ${m.description}</span>
      <span class="meta muted">${family} · about ${formatBytes(m.size_bytes)} · ${m.license_url ? html`<a href=${m.license_url} target="_blank" rel="noopener">${m.license}</a>` : m.license} · ${m.source}</span>
      ${m.available ? nothing : html`<span class="why muted" data-testid="starter-why">Not yet: ${m.unavailable_reason}</span>`}
      ${p && ACTIVE.has(p.status) ? html`<progress max=${p.total_bytes ?? 1} .value=${p.total_bytes ? p.received_bytes : 0}></progress>` : nothing}
    </li>`;
  }

  override render() {
    if (!this.conn.connected) return this.firstRun ? nothing : html`<p class="muted">Connect to the server to see its starter models.</p>`;
    const list = this.firstRun ? firstRunChoices(this.models) : this.models;
    if (this.firstRun) {
      if (list.length === 0) return nothing;
      return html`<section data-testid="first-run">
        <h3>Get a model to start</h3>
        <p class="muted">The server has no checkpoint yet. Pick one: it downloads to the server, then Generate works.</p>
        <ul>${list.map((m) => this.renderEntry(m))}</ul>
      </section>`;
    }
    return html`<ul data-testid="starter-models">${list.map((m) => this.renderEntry(m))}</ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-starter-models': EaselStarterModels;
  }
}

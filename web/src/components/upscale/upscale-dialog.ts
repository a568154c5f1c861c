// <easel-upscale-dialog>: upscales one gallery image on the server — upscaler picker (Lanczos,
// Nearest and the files in $MODELS_DIR/upscalers), scale and tile size (remembered), then a progress
// bar per tile with cancel, and the result (also added to the gallery by the server).
//
// Public surface: property `image` (GalleryImage | null; null hides it); event `close`.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { toastError } from '../../app/toasts.js';
import { describeError } from '../../data/errors.js';
import { fileUrl } from '../../data/http.js';
import { listModels } from '../../data/models.js';
import type { GalleryImage } from '../../data/protocol.js';
import { connection, currentSettings } from '../../data/services.js';
import { loadUpscaleSettings, saveUpscaleSettings, upscalerChoices, UpscaleJob, type UpscaleChoice, type UpscaleSettings, type UpscaleView } from '../../data/upscale.js';
import { icons } from '../shared/icons.js';
import { controls } from '../shared/styles.js';

const PHASE_TEXT: Record<UpscaleView['phase'], string> = {
  submitting: 'Sending…',
  queued: 'Queued',
  running: 'Upscaling',
  completed: 'Done: saved to the gallery',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

@customElement('easel-upscale-dialog')
export class EaselUpscaleDialog extends LitElement {
  static override styles = [
    controls,
    css`
      .backdrop {
        position: fixed;
        inset: 0;
        z-index: 50;
        background: rgb(0 0 0 / 0.6);
        display: grid;
        place-items: center;
        padding: 12px;
      }
      .panel {
        background: var(--surface);
        border-radius: 16px;
        width: min(420px, 100%);
        max-height: 100dvh;
        overflow-y: auto;
        padding: 16px;
        display: grid;
        gap: 12px;
      }
      .top {
        display: flex;
        justify-content: space-between;
        align-items: center;
      }
      h2 {
        margin: 0;
        font-size: 1.1rem;
      }
      .row {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 10px;
      }
      .field {
        display: grid;
        gap: 4px;
      }
      .bar {
        height: 8px;
        border-radius: 4px;
        background: var(--surface-2);
        overflow: hidden;
      }
      .bar > div {
        height: 100%;
        background: var(--accent);
        transition: width 0.2s;
      }
      .actions {
        display: flex;
        gap: 8px;
        justify-content: flex-end;
        flex-wrap: wrap;
      }
      img {
        width: 100%;
        border-radius: var(--radius);
        background: var(--bg);
      }
    `,
  ];

  @property({ attribute: false }) image: GalleryImage | null = null;
  @state() private choices: UpscaleChoice[] = upscalerChoices([]);
  @state() private settings: UpscaleSettings = loadUpscaleSettings(localStorage);
  @state() private view: UpscaleView | null = null;
  private job: UpscaleJob | null = null;

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('image') && this.image) {
      this.resetJob();
      void listModels(connection, 'upscaler').then(
        (models) => (this.choices = upscalerChoices(models)),
        () => undefined, // offline: the built-ins still work once connected
      );
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resetJob();
  }

  private resetJob(): void {
    this.job?.dispose();
    this.job = null;
    this.view = null;
  }

  private change(patch: Partial<UpscaleSettings>): void {
    this.settings = { ...this.settings, ...patch };
    saveUpscaleSettings(localStorage, this.settings);
  }

  private start(): void {
    const image = this.image;
    if (!image) return;
    this.resetJob();
    const job = new UpscaleJob(connection);
    this.job = job;
    job.addEventListener('change', () => (this.view = job.view));
    this.view = job.view;
    void job.start(image, this.settings);
  }

  private close(): void {
    this.resetJob();
    this.dispatchEvent(new Event('close'));
  }

  private renderProgress(v: UpscaleView) {
    const pct = v.phase === 'completed' ? 100 : v.total > 0 ? Math.round((v.done / v.total) * 100) : 0;
    return html`<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax=${v.total} aria-valuenow=${v.done} data-testid="upscale-progress">
        <div style="width:${pct}%"></div>
      </div>
      <div class="muted" data-testid="upscale-status">
        ${PHASE_TEXT[v.phase]}${v.phase === 'queued' && v.position ? ` · position ${v.position}` : ''}${v.phase === 'running' && v.total > 0 ? ` · tile ${v.done}/${v.total}` : ''}
      </div>
      ${v.phase === 'failed' && v.error ? html`<div class="error-text" role="alert" data-testid="upscale-error">${describeError(v.error)}</div>` : nothing}
      ${v.image
        ? html`<img src=${fileUrl(currentSettings().serverUrl, v.image.url)} alt="upscaled" data-testid="upscale-result" />
            <div class="muted" data-testid="upscale-size">${v.image.width}×${v.image.height}</div>`
        : nothing}`;
  }

  override render() {
    const img = this.image;
    if (!img) return nothing;
    const v = this.view;
    const busy = v !== null && !['completed', 'failed', 'cancelled'].includes(v.phase);
    const s = this.settings;
    const known = this.choices.some((c) => c.value === s.upscaler);
    return html`<div class="backdrop" @click=${(e: Event) => e.target === e.currentTarget && !busy && this.close()}>
      <div class="panel" role="dialog" aria-modal="true" aria-label="Upscale" data-testid="upscale-dialog">
        <div class="top">
          <h2>Upscale ${img.width}×${img.height}</h2>
          <button class="icon" aria-label="Close" ?disabled=${busy} title=${busy ? 'An upscale is running' : ''} @click=${() => this.close()}>${icons.close}</button>
        </div>
        <div class="field">
          <label for="u-upscaler">Upscaler</label>
          <select id="u-upscaler" data-testid="upscale-upscaler" ?disabled=${busy} title=${busy ? 'An upscale is running' : ''} @change=${(e: Event) => this.change({ upscaler: (e.target as HTMLSelectElement).value })}>
            ${known ? nothing : html`<option value=${s.upscaler} selected>${s.upscaler}</option>`}
            ${this.choices.map((c) => html`<option value=${c.value} ?selected=${c.value === s.upscaler}>${c.label}</option>`)}
          </select>
        </div>
        <div class="row">
          <div class="field">
            <label for="u-scale">Scale</label>
            <input id="u-scale" data-testid="upscale-scale" type="number" min="1" max="8" step="0.05" .value=${String(s.scale)} ?disabled=${busy} title=${busy ? 'An upscale is running' : ''}
              @change=${(e: Event) => {
                const n = (e.target as HTMLInputElement).valueAsNumber;
                if (Number.isFinite(n) && n >= 1 && n <= 8) this.change({ scale: n });
              }} />
          </div>
          <div class="field">
            <label for="u-tile">Tile (0 = whole image)</label>
            <input id="u-tile" data-testid="upscale-tile" type="number" min="0" max="2048" step="1" .value=${String(s.tile)} ?disabled=${busy} title=${busy ? 'An upscale is running' : ''}
              @change=${(e: Event) => {
                const n = (e.target as HTMLInputElement).valueAsNumber;
                if (Number.isInteger(n) && n >= 0 && n <= 2048) this.change({ tile: n });
              }} />
          </div>
        </div>
        <div class="muted">Result: ${Math.floor((img.width * s.scale) / 8) * 8}×${Math.floor((img.height * s.scale) / 8) * 8}</div>
        ${v ? this.renderProgress(v) : nothing}
        <div class="actions">
          ${busy
            ? html`<button class="danger" data-testid="upscale-cancel" @click=${() => this.job?.cancel().catch(toastError)}>Cancel</button>`
            : html`<button class="primary" data-testid="upscale-start" @click=${() => this.start()}>${icons.image} Upscale</button>`}
        </div>
      </div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-upscale-dialog': EaselUpscaleDialog;
  }
}

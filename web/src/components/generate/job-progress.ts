// <easel-job-progress>: the live view of the followed job: preview image, progress bar with step
// and ETA, queue position, what the server is doing now (the phase line under the bar: loading the
// model, encoding, sampling, decoding, saving), and the failure message when it fails.
//
// Public surface: property `job` (JobView | null), `eta` (seconds or null).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { describeError } from '../../data/errors.js';
import type { JobView } from '../../data/jobs.js';
import { describePhase } from '../../logic/job-phase.js';
import { controls } from '../shared/styles.js';

const PHASE_TEXT: Record<JobView['phase'], string> = {
  waiting_connection: 'Waiting for the connection: sent when it is back',
  submitting: 'Sending…',
  queued: 'Queued',
  running: 'Generating',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function formatEta(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

@customElement('easel-job-progress')
export class EaselJobProgress extends LitElement {
  static override styles = [
    controls,
    css`
      .preview {
        aspect-ratio: 1;
        width: 100%;
        max-height: 60vh;
        border-radius: var(--radius);
        background: var(--surface-2);
        display: grid;
        place-items: center;
        overflow: hidden;
        color: var(--text-muted);
      }
      .preview img {
        width: 100%;
        height: 100%;
        object-fit: contain;
      }
      .bar {
        height: 8px;
        border-radius: 4px;
        background: var(--surface-2);
        overflow: hidden;
        margin-top: 10px;
      }
      .bar > div {
        height: 100%;
        background: var(--accent);
        transition: width 0.2s;
      }
      .status {
        display: flex;
        justify-content: space-between;
        gap: 8px;
        flex-wrap: wrap;
        margin-top: 6px;
        font-size: 0.9rem;
      }
      .error-text {
        font-size: 0.95rem;
      }
      .phase {
        margin-top: 4px;
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ attribute: false }) job: JobView | null = null;
  @property({ attribute: false }) eta: number | null = null;

  override render() {
    const j = this.job;
    if (!j) return html`<div class="preview" data-testid="preview">The preview appears here while generating.</div>`;
    const pct = j.total > 0 ? Math.min(100, Math.round((j.step / j.total) * 100)) : 0;
    const done = j.phase === 'completed';
    return html`
      <div class="preview" data-testid="preview">
        ${j.previewUrl ? html`<img src=${j.previewUrl} alt="preview at step ${j.step}" />` : html`<span>${PHASE_TEXT[j.phase]}</span>`}
      </div>
      <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax=${j.total} aria-valuenow=${j.step} data-testid="progress">
        <div style="width:${done ? 100 : pct}%"></div>
      </div>
      <div class="status" data-testid="job-status">
        <span>${PHASE_TEXT[j.phase]}${j.phase === 'queued' && j.position ? html` · position ${j.position}` : nothing}</span>
        <span>
          ${j.phase === 'running' && j.total > 0 ? html`step ${j.step}/${j.total}` : nothing}
          ${(j.phase === 'running' || j.phase === 'queued') && this.eta !== null ? html` · ETA ${formatEta(this.eta)}` : nothing}
        </span>
      </div>
      ${(j.phase === 'running' || j.phase === 'queued') && j.serverPhase
        ? html`<div class="phase muted" data-testid="job-phase" data-phase=${j.serverPhase}>${describePhase(j)}</div>`
        : nothing}
      ${j.phase === 'failed' && j.error ? html`<div class="error-text" role="alert">${describeError(j.error)}</div>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-job-progress': EaselJobProgress;
  }
}

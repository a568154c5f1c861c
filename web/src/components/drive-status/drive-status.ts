// <easel-drive-status>: the header's Drive backup indicator: a cloud, coloured by state (backed
// up, waiting, syncing, error), with the count of images waiting; the full sentence is the tooltip.
// Hidden while the server has no Drive backup set up. Clicking it opens Settings.
//
// Public surface: no properties; reads data/drive. Events: `easel-navigate` (to settings).
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement } from 'lit/decorators.js';
import { appEvent } from '../../app/events.js';
import { driveTracker, summarizeDrive } from '../../data/drive.js';
import { connection } from '../../data/services.js';
import { EventController } from '../../controllers/event-controller.js';
import { statusPill } from '../shared/styles.js';

const cloud = svg`<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M7 18h10a4 4 0 00.6-8A6 6 0 006.2 9.2 4.5 4.5 0 007 18z"/></svg>`;

@customElement('easel-drive-status')
export class EaselDriveStatus extends LitElement {
  static override styles = [
    statusPill,
    css`
      button {
        color: var(--text-muted);
      }
      [data-tone='ok'] {
        color: var(--ok);
      }
      [data-tone='warn'] {
        color: var(--warn);
      }
      [data-tone='error'] {
        color: var(--danger);
      }
      [data-tone='busy'] svg {
        color: var(--accent);
      }
      .icon {
        display: inline-flex;
      }
      @media (max-width: 600px) {
        .label {
          display: none;
        }
      }
    `,
  ];

  private readonly drive = driveTracker(connection);

  constructor() {
    super();
    new EventController(this, this.drive, ['change']);
  }

  override render() {
    const s = this.drive.status;
    if (!s || s.state === 'disabled') return nothing;
    const summary = summarizeDrive(s, Date.now());
    return html`<button
      data-tone=${summary.tone}
      data-testid="drive-status"
      title=${summary.detail}
      aria-label="Drive backup: ${summary.label}"
      @click=${() => this.dispatchEvent(appEvent('easel-navigate', { tab: 'settings' }))}
    >
      <span class="icon ${summary.tone === 'busy' ? 'pulsing' : ''}">${cloud}</span><span class="label">${summary.label}</span>
    </button>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-drive-status': EaselDriveStatus;
  }
}

// <easel-connection-status>: a dot and a word for the connection state (connected, connecting,
// offline, token refused, not set up), with the last error as tooltip. Clicking it while the
// token is refused or nothing is set up navigates to Settings.
//
// Public surface: no properties; reads data/services. Events: `easel-navigate` (to settings).
import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { appEvent } from '../../app/events.js';
import type { ConnectionState } from '../../data/connection.js';
import { connection } from '../../data/services.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { statusPill } from '../shared/styles.js';

const LABELS: Record<ConnectionState, string> = {
  connected: 'Connected',
  connecting: 'Connecting…',
  disconnected: 'Offline',
  unauthorized: 'Token refused',
  unconfigured: 'Not set up',
};

@customElement('easel-connection-status')
export class EaselConnectionStatus extends LitElement {
  static override styles = [
    statusPill,
    css`
      .dot {
        width: 10px;
        height: 10px;
        border-radius: 50%;
        background: var(--text-muted);
        flex: none;
      }
      [data-state='connected'] .dot {
        background: var(--ok);
      }
      [data-state='connecting'] .dot {
        background: var(--warn);
      }
      [data-state='disconnected'] .dot,
      [data-state='unauthorized'] .dot {
        background: var(--danger);
      }
      .queued {
        color: var(--text-muted);
      }
    `,
  ];

  private readonly conn = new ConnectionController(this);

  override render() {
    const state = this.conn.state;
    const queued = connection.queuedCount;
    const title = connection.lastError?.message ?? LABELS[state];
    return html`<button
      data-state=${state}
      title=${title}
      aria-label="Connection: ${LABELS[state]}"
      @click=${() => this.dispatchEvent(appEvent('easel-navigate', { tab: 'settings' }))}
    >
      <span class="dot ${state === 'connecting' ? 'pulsing' : ''}"></span><span class="label">${LABELS[state]}</span>${queued > 0 ? html`<span class="queued">· ${queued} waiting</span>` : ''}
    </button>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-connection-status': EaselConnectionStatus;
  }
}

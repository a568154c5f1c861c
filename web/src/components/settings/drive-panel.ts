// <easel-drive-panel>: Google Drive backup in Settings: the state, images waiting, last sync, last
// error and restore progress, and the buttons Connect (open Google's consent page, then paste the
// address it lands on and press Finish), Sync now, Restore from Drive and Disconnect.
//
// Public surface: no properties; reads data/drive through the app's connection. No events.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toast, toastError } from '../../app/toasts.js';
import { driveButtons, driveTracker, looksLikeAuthPaste, relativeTime, summarizeDrive } from '../../data/drive.js';
import { connection } from '../../data/services.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { EventController } from '../../controllers/event-controller.js';
import { controls } from '../shared/styles.js';

@customElement('easel-drive-panel')
export class EaselDrivePanel extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: grid;
        gap: 12px;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 4px 12px;
        margin: 0;
        font-size: 0.9rem;
      }
      dt {
        color: var(--text-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .error {
        color: var(--danger);
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
      }
      .paste {
        display: grid;
        gap: 8px;
      }
      ol {
        margin: 0;
        padding-left: 1.2em;
        font-size: 0.9rem;
      }
    `,
  ];

  private readonly drive = driveTracker(connection);
  private readonly conn = new ConnectionController(this);
  /** Set while the consent flow is open: the URL to (re)open and the paste box. */
  @state() private authUrl = '';
  @state() private pasted = '';
  @state() private busy = false;

  constructor() {
    super();
    new EventController(this, this.drive, ['change']);
  }

  private async act(fn: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await fn();
    } catch (err) {
      toastError(err);
    } finally {
      this.busy = false;
    }
  }

  private connect(): Promise<void> {
    // Opened synchronously with the click (a popup opened after an await is blocked on phones),
    // then pointed at Google's URL once the server answers.
    const tab = window.open('', '_blank');
    // The consent page needs no handle on this app.
    if (tab) tab.opener = null;
    return this.act(async () => {
      let url = '';
      try {
        url = await this.drive.startConnect();
      } finally {
        if (!url) tab?.close();
      }
      if (!url) return;
      this.authUrl = url;
      if (tab) tab.location.href = url;
    });
  }

  private finish(): Promise<void> {
    return this.act(async () => {
      await this.drive.finishConnect(this.pasted);
      this.authUrl = '';
      this.pasted = '';
      toast('Drive connected: backing up now', 'success');
    });
  }

  override render() {
    const s = this.drive.status;
    const now = Date.now();
    const summary = summarizeDrive(s, now);
    const can = driveButtons(s, this.conn.connected);
    const idle = !this.busy;
    // Every disabled button says why (tooltip).
    const busyWhy = idle ? '' : 'Wait: a Drive action is running';
    const notConnected = 'Connect Google Drive first (and the server)';
    return html`
      <p data-testid="drive-summary">${summary.detail}</p>
      ${s && s.state !== 'disabled'
        ? html`<dl data-testid="drive-details">
            <dt>State</dt>
            <dd data-testid="drive-state">${s.state}${s.auth ? html` (${s.auth === 'oauth' ? 'your account' : 'service account'})` : nothing}</dd>
            <dt>Waiting</dt>
            <dd>${s.pending}</dd>
            <dt>Last sync</dt>
            <dd>${relativeTime(s.last_sync_at, now)}</dd>
            ${s.last_error ? html`<dt>Last error</dt><dd class="error">${s.last_error.message}</dd>` : nothing}
            ${s.restore ? html`<dt>Restore</dt><dd>${s.restore.state}: ${s.restore.done} of ${s.restore.total} checked, ${s.restore.added} added</dd>` : nothing}
          </dl>`
        : nothing}
      ${this.authUrl
        ? html`<div class="paste">
            <ol>
              <li>Approve Easel on <a href=${this.authUrl} target="_blank" rel="noopener">Google's page</a>.</li>
              <li>Google then opens a page that fails to load (<code>localhost</code>): copy its whole address.</li>
              <li>Paste it here and press Finish.</li>
            </ol>
            <input
              aria-label="Address or code from Google"
              placeholder="http://localhost/?code=…"
              autocomplete="off"
              .value=${this.pasted}
              @input=${(e: Event) => (this.pasted = (e.target as HTMLInputElement).value)}
            />
            <div class="buttons">
              <button class="primary" ?disabled=${!idle || !looksLikeAuthPaste(this.pasted)} title=${busyWhy || (looksLikeAuthPaste(this.pasted) ? '' : "Paste the address Google's page opened first")} @click=${() => this.finish()}>Finish</button>
              <button ?disabled=${!idle} title=${busyWhy} @click=${() => ((this.authUrl = ''), (this.pasted = ''))}>Cancel</button>
            </div>
          </div>`
        : nothing}
      <div class="buttons">
        ${can.connect && !this.authUrl ? html`<button class="primary" ?disabled=${!idle} title=${busyWhy} @click=${() => this.connect()}>Connect</button>` : nothing}
        <button ?disabled=${!idle || !can.sync} title=${busyWhy || (can.sync ? '' : notConnected)} @click=${() => this.act(() => this.drive.sync())}>Sync now</button>
        <button ?disabled=${!idle || !can.restore} title=${busyWhy || (can.restore ? '' : notConnected)} @click=${() => this.act(() => this.drive.restore())}>Restore from Drive</button>
        ${can.disconnect ? html`<button class="danger" ?disabled=${!idle} title=${busyWhy} @click=${() => this.act(() => this.drive.disconnect())}>Disconnect</button>` : nothing}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-drive-panel': EaselDrivePanel;
  }
}

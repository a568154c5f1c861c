// <easel-settings-panel>: server URL and token (with "test connection"), theme, the models list
// and download form, Google Drive status, and what is stored offline on this device.
//
// Public surface: property `theme`; event `theme-change` (the shell toggles and remembers it).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import './model-manager.js';
import { toast } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { describeError } from '../../data/errors.js';
import { testConnection } from '../../data/http.js';
import { formatBytes } from '../../data/models.js';
import type { DriveStatusEvent } from '../../data/protocol.js';
import { connection, currentSettings, galleryDb, updateSettings } from '../../data/services.js';
import { normalizeServerUrl, type Theme } from '../../data/settings.js';
import { controls } from '../shared/styles.js';

@customElement('easel-settings-panel')
export class EaselSettingsPanel extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: grid;
        gap: 16px;
        grid-template-columns: minmax(0, 1fr);
        max-width: 1000px;
      }
      @media (min-width: 1100px) {
        :host {
          grid-template-columns: repeat(2, minmax(0, 1fr));
          align-items: start;
        }
      }
      form {
        display: grid;
        gap: 12px;
      }
      .row button {
        flex: 1 1 auto;
      }
      .result {
        font-size: 0.9rem;
      }
      .result.ok {
        color: var(--ok);
      }
      .result.bad {
        color: var(--danger);
      }
      .theme {
        display: flex;
        gap: 8px;
      }
      .theme button[aria-pressed='true'] {
        border-color: var(--accent);
        background: color-mix(in srgb, var(--accent) 22%, var(--surface-2));
      }
      code {
        font-family: var(--mono);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property() theme: Theme = 'dark';
  @state() private serverUrl = currentSettings().serverUrl;
  @state() private token = currentSettings().token;
  @state() private showToken = false;
  @state() private testResult: { ok: boolean; text: string } | null = null;
  @state() private testing = false;
  @state() private drive: DriveStatusEvent | null = null;
  @state() private storage = '';
  @state() private cachedImages = 0;

  private readonly conn = new ConnectionController(this);
  private unsubDrive: (() => void) | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubDrive = connection.on('drive:status', (e) => (this.drive = e));
    void this.refreshStorage();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubDrive?.();
  }

  private async refreshStorage(): Promise<void> {
    const [usage, count] = await Promise.all([galleryDb.usage(), galleryDb.countImages().catch(() => 0)]);
    this.cachedImages = count;
    this.storage = usage.usedBytes !== null ? `${formatBytes(usage.usedBytes)}${usage.quotaBytes ? ` of ${formatBytes(usage.quotaBytes)}` : ''}` : 'unknown';
  }

  private save(e: Event): void {
    e.preventDefault();
    updateSettings({ serverUrl: this.serverUrl, token: this.token });
    this.serverUrl = currentSettings().serverUrl;
    toast('Server settings saved', 'success');
  }

  private async test(): Promise<void> {
    this.testing = true;
    this.testResult = null;
    const r = await testConnection({ serverUrl: normalizeServerUrl(this.serverUrl), token: this.token.trim() });
    this.testing = false;
    this.testResult = r.ok ? { ok: true, text: `Connected: Easel server ${r.version}` } : { ok: false, text: describeError(r.error) };
  }

  override render() {
    return html`
      <section class="card">
        <h2>Server</h2>
        <form @submit=${this.save}>
          <div class="field">
            <label for="s-url">Server URL</label>
            <input
              id="s-url"
              type="url"
              inputmode="url"
              autocomplete="url"
              placeholder="https://your-tunnel.trycloudflare.com"
              .value=${this.serverUrl}
              @input=${(e: Event) => (this.serverUrl = (e.target as HTMLInputElement).value)}
              data-testid="server-url"
            />
          </div>
          <div class="field">
            <label for="s-token">Token</label>
            <div class="row" style="flex-wrap:nowrap">
              <input
                id="s-token"
                type=${this.showToken ? 'text' : 'password'}
                autocomplete="off"
                spellcheck="false"
                .value=${this.token}
                @input=${(e: Event) => (this.token = (e.target as HTMLInputElement).value)}
                data-testid="server-token"
              />
              <button type="button" @click=${() => (this.showToken = !this.showToken)}>${this.showToken ? 'Hide' : 'Show'}</button>
            </div>
            <div class="muted" style="font-size:.85rem;margin-top:4px">Printed by the server at start, or in <code>DATA_DIR/auth-token</code>.</div>
          </div>
          <div class="row">
            <button type="button" ?disabled=${this.testing} @click=${this.test} data-testid="test-connection">${this.testing ? 'Testing…' : 'Test connection'}</button>
            <button type="submit" class="primary" data-testid="save-server">Save and connect</button>
          </div>
          ${this.testResult ? html`<div class="result ${this.testResult.ok ? 'ok' : 'bad'}" role="status" data-testid="test-result">${this.testResult.text}</div>` : nothing}
          <div class="muted" style="font-size:.85rem">Status: <span data-testid="settings-state">${this.conn.state}</span>${connection.lastError ? ` · ${describeError(connection.lastError)}` : ''}</div>
        </form>
      </section>
      <section class="card">
        <h2>Appearance</h2>
        <div class="theme" role="group" aria-label="Theme">
          <button aria-pressed=${this.theme === 'dark'} data-testid="theme-dark" @click=${() => this.theme !== 'dark' && this.dispatchEvent(new Event('theme-change'))}>Dark</button>
          <button aria-pressed=${this.theme === 'light'} data-testid="theme-light" @click=${() => this.theme !== 'light' && this.dispatchEvent(new Event('theme-change'))}>Light</button>
        </div>
      </section>
      <section class="card">
        <h2>Models</h2>
        <easel-model-manager></easel-model-manager>
      </section>
      <section class="card">
        <h2>Google Drive backup</h2>
        ${this.drive
          ? html`<p>State: <strong>${this.drive.state}</strong> · ${this.drive.pending} waiting${this.drive.message ? html` · ${this.drive.message}` : nothing}</p>`
          : html`<p class="muted">The server has not reported a Drive status. Drive backup is set up on the server; its progress will show here.</p>`}
      </section>
      <section class="card">
        <h2>Offline storage</h2>
        <p>${this.cachedImages} gallery image${this.cachedImages === 1 ? '' : 's'} kept on this device · ${this.storage}</p>
        <p class="muted" style="font-size:.85rem">Client id <code>${currentSettings().clientId}</code></p>
        <button @click=${() => this.refreshStorage()}>Refresh</button>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-settings-panel': EaselSettingsPanel;
  }
}

// <easel-server-list>: the remembered servers (switch, forget) and the form for the active or a
// new one (name, URL, token, "test connection", "save and connect"). Saving a URL that is already
// in the list updates that entry; a new URL adds one. Whichever is active drives the connection
// (services.updateSettings reconfigures it). The list itself lives in data/server-link.ts.
//
// Public surface: none (mounted by <easel-settings-panel>); data-testids for the browser tests.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toast } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { describeError } from '../../data/errors.js';
import { testConnection } from '../../data/http.js';
import {
  activeServer,
  forgetServer,
  loadServerBook,
  rememberServer,
  saveServerBook,
  switchServer,
  syncWithSettings,
  validServerUrl,
  type SavedServer,
  type ServerBook,
} from '../../data/server-link.js';
import { connection, currentSettings, updateSettings } from '../../data/services.js';
import { controls } from '../shared/styles.js';

@customElement('easel-server-list')
export class EaselServerList extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: grid;
        gap: 14px;
      }
      form {
        display: grid;
        gap: 12px;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 8px;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px;
        padding: 8px 10px;
        border: 1px solid var(--border);
        border-radius: var(--radius);
      }
      li[data-active='true'] {
        border-color: var(--accent);
      }
      .who {
        flex: 1 1 12rem;
        min-width: 0;
      }
      .who strong,
      .who code {
        display: block;
        overflow-wrap: anywhere;
      }
      .badge {
        font-size: 0.8rem;
        color: var(--accent);
        font-weight: 600;
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
      code {
        font-family: var(--mono);
        font-size: 0.85rem;
      }
    `,
  ];

  @state() private book: ServerBook = { servers: [], activeId: null };
  @state() private name = '';
  @state() private serverUrl = '';
  @state() private token = '';
  @state() private showToken = false;
  @state() private testResult: { ok: boolean; text: string } | null = null;
  @state() private testing = false;

  private readonly conn = new ConnectionController(this);

  override connectedCallback(): void {
    super.connectedCallback();
    // The settings may have moved without the list (the server's own `#token=` link).
    const book = syncWithSettings(loadServerBook(localStorage), currentSettings());
    saveServerBook(localStorage, book);
    this.book = book;
    this.fillForm(activeServer(book));
  }

  private fillForm(server: SavedServer | null): void {
    const s = currentSettings();
    this.name = server?.name ?? '';
    this.serverUrl = server?.serverUrl ?? s.serverUrl;
    this.token = server?.token ?? s.token;
    this.testResult = null;
  }

  /** Stores the book and points the connection at its active server. */
  private commit(book: ServerBook): void {
    saveServerBook(localStorage, book);
    this.book = book;
    const active = activeServer(book);
    updateSettings({ serverUrl: active?.serverUrl ?? '', token: active?.token ?? '' });
  }

  private save(e: Event): void {
    e.preventDefault();
    if (!validServerUrl(this.serverUrl)) {
      this.testResult = { ok: false, text: 'Enter the server address, e.g. https://your-tunnel.trycloudflare.com' };
      return;
    }
    const { book, server } = rememberServer(this.book, { serverUrl: this.serverUrl, token: this.token, name: this.name });
    this.commit(book);
    this.fillForm(server);
    toast(`Connecting to ${server.name}`, 'success');
  }

  private use(server: SavedServer): void {
    this.commit(switchServer(this.book, server.id));
    this.fillForm(server);
    toast(`Switched to ${server.name}`, 'success');
  }

  private forget(server: SavedServer): void {
    const wasActive = server.id === this.book.activeId;
    this.commit(forgetServer(this.book, server.id));
    if (wasActive) this.fillForm(activeServer(this.book));
    toast(`Forgot ${server.name}`, 'info');
  }

  private startNew(): void {
    this.name = '';
    this.serverUrl = '';
    this.token = '';
    this.testResult = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#s-url')?.focus());
  }

  private async test(): Promise<void> {
    const serverUrl = validServerUrl(this.serverUrl);
    if (!serverUrl) {
      this.testResult = { ok: false, text: 'Not a server address (http:// or https://)' };
      return;
    }
    this.testing = true;
    this.testResult = null;
    const r = await testConnection({ serverUrl, token: this.token.trim() });
    this.testing = false;
    this.testResult = r.ok ? { ok: true, text: `Connected: Easel server ${r.version}` } : { ok: false, text: describeError(r.error) };
  }

  private renderList() {
    if (this.book.servers.length === 0) return html`<p class="muted" data-testid="server-list-empty">No saved servers yet.</p>`;
    return html`<ul data-testid="server-list" aria-label="Saved servers">
      ${this.book.servers.map((s) => {
        const active = s.id === this.book.activeId;
        return html`<li data-testid="server-item" data-active=${String(active)} data-url=${s.serverUrl}>
          <div class="who">
            <strong data-testid="server-name">${s.name}</strong>
            <code>${s.serverUrl}</code>
            ${active ? html`<span class="badge">Active · ${this.conn.state}</span>` : nothing}
          </div>
          ${active ? nothing : html`<button type="button" data-testid="server-switch" @click=${() => this.use(s)}>Switch</button>`}
          <button type="button" class="danger" data-testid="server-forget" aria-label=${`Forget ${s.name}`} @click=${() => this.forget(s)}>Forget</button>
        </li>`;
      })}
    </ul>`;
  }

  override render() {
    return html`
      ${this.renderList()}
      <form @submit=${this.save}>
        <div class="field">
          <label for="s-name">Name (optional)</label>
          <input
            id="s-name"
            autocomplete="off"
            placeholder="Colab T4"
            .value=${this.name}
            @input=${(e: Event) => (this.name = (e.target as HTMLInputElement).value)}
            data-testid="server-label"
          />
        </div>
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
          <div class="muted" style="font-size:.85rem;margin-top:4px">
            Printed by the server at start (or in <code>DATA_DIR/auth-token</code>); a Colab link fills it in.
          </div>
        </div>
        <div class="row">
          <button type="button" ?disabled=${this.testing} title=${this.testing ? 'A test is running' : ''} @click=${this.test} data-testid="test-connection">${this.testing ? 'Testing…' : 'Test connection'}</button>
          <button type="button" @click=${this.startNew} data-testid="new-server">New server</button>
          <button type="submit" class="primary" data-testid="save-server">Save and connect</button>
        </div>
        ${this.testResult ? html`<div class="result ${this.testResult.ok ? 'ok' : 'bad'}" role="status" data-testid="test-result">${this.testResult.text}</div>` : nothing}
        <div class="muted" style="font-size:.85rem">
          Status: <span data-testid="settings-state">${this.conn.state}</span>${connection.lastError ? ` · ${describeError(connection.lastError)}` : ''}
        </div>
      </form>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-server-list': EaselServerList;
  }
}

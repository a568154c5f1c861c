// <easel-app>: the shell. Hash-routed tabs (Generate, Inpaint, ControlNet, Gallery, Settings) as a
// bottom tab bar on phones and a side rail on desktops, a header with the connection status and
// (on phones) a menu sheet, the theme, the toast stack, and the routing of app-level events
// (send an image to img2img/inpaint, use a gallery image's parameters).
//
// Public surface: none (the page's root element). Listens to `easel-navigate`, `easel-send-image`,
// `easel-use-params` from any descendant.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '../components/connection-status/connection-status.js';
import '../components/drive-status/drive-status.js';
import '../components/toast/toast-stack.js';
import '../components/generate/generate-panel.js';
import '../components/gallery/gallery-panel.js';
import '../components/settings/settings-panel.js';
import '../components/controlnet/controlnet-panel.js';
import type { EaselControlNetPanel } from '../components/controlnet/controlnet-panel.js';
import '../components/inpaint/inpaint-panel.js';
import type { EaselGeneratePanel } from '../components/generate/generate-panel.js';
import type { EaselInpaintPanel } from '../components/inpaint/inpaint-panel.js';
import { controls } from '../components/shared/styles.js';
import { icons } from '../components/shared/icons.js';
import { connection, currentSettings, startServices, updateSettings } from '../data/services.js';
import { describeError } from '../data/errors.js';
import type { ConnectionState } from '../data/connection.js';
import { takeServerLink } from '../data/server-link.js';
import { ServerInfoController } from '../controllers/server-info-controller.js';
import { DEFAULT_TAB, hashForTab, tabFromHash, TAB_LABELS, tokenFromHash, visibleTabs, type Tab } from './routes.js';
import { applyTheme } from './theme.js';
import { toast } from './toasts.js';
import { diskNotice } from '../data/server-status.js';
import type { DiskStatus } from '../data/protocol.js';

@customElement('easel-app')
export class EaselApp extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
        min-height: 100dvh;
      }
      header {
        position: sticky;
        top: 0;
        z-index: 20;
        height: calc(var(--header-height) + env(safe-area-inset-top));
        padding: env(safe-area-inset-top) 8px 0 14px;
        display: flex;
        align-items: center;
        gap: 8px;
        background: color-mix(in srgb, var(--bg) 88%, transparent);
        backdrop-filter: blur(10px);
        border-bottom: 1px solid var(--border);
      }
      .brand {
        font-weight: 700;
        font-size: 1.1rem;
        letter-spacing: 0.02em;
        display: flex;
        align-items: center;
        gap: 8px;
      }
      .brand img {
        width: 28px;
        height: 28px;
      }
      .spacer {
        flex: 1;
      }
      nav {
        position: fixed;
        z-index: 30;
        left: 0;
        right: 0;
        bottom: 0;
        height: calc(var(--tabbar-height) + env(safe-area-inset-bottom));
        padding-bottom: env(safe-area-inset-bottom);
        display: grid;
        grid-template-columns: repeat(var(--tab-count, 5), 1fr);
        background: var(--surface);
        border-top: 1px solid var(--border);
      }
      nav a {
        display: flex;
        flex-direction: column;
        align-items: center;
        justify-content: center;
        gap: 2px;
        min-height: var(--touch);
        color: var(--text-muted);
        text-decoration: none;
        font-size: 0.7rem;
        -webkit-tap-highlight-color: transparent;
      }
      nav a[aria-current='page'] {
        color: var(--accent);
      }
      nav a:focus-visible {
        outline: 2px solid var(--focus);
        outline-offset: -4px;
      }
      main {
        padding: 12px 12px calc(var(--tabbar-height) + 24px + env(safe-area-inset-bottom));
        max-width: 1400px;
        margin: 0 auto;
        min-width: 0;
      }
      .theme-toggle {
        display: none;
      }
      .menu-sheet {
        position: fixed;
        z-index: 40;
        inset: 0;
        background: rgb(0 0 0 / 0.45);
        display: flex;
        align-items: flex-end;
      }
      .menu-sheet .sheet {
        width: 100%;
        background: var(--surface);
        border-radius: 16px 16px 0 0;
        padding: 12px 12px calc(16px + env(safe-area-inset-bottom));
        display: grid;
        gap: 8px;
      }
      .menu-sheet button {
        justify-content: flex-start;
        width: 100%;
      }
      [hidden] {
        display: none !important;
      }
      @media (min-width: 900px) {
        header {
          padding-left: calc(var(--rail-width) + 16px);
        }
        nav {
          top: 0;
          right: auto;
          width: var(--rail-width);
          height: 100dvh;
          padding: 12px 0;
          grid-template-columns: 1fr;
          grid-auto-rows: 72px;
          align-content: start;
          border-top: none;
          border-right: 1px solid var(--border);
        }
        nav a {
          font-size: 0.75rem;
          margin: 0 8px;
          border-radius: 12px;
        }
        nav a[aria-current='page'] {
          background: var(--surface-2);
        }
        main {
          padding: 20px 24px 32px calc(var(--rail-width) + 24px);
        }
        .menu-button {
          display: none;
        }
        .theme-toggle {
          display: inline-flex;
        }
      }
    `,
  ];

  @state() private tab: Tab = tabFromHash(location.hash);
  @state() private menuOpen = false;
  @state() private theme = currentSettings().theme;
  private readonly visited = new Set<Tab>();
  private lastState: ConnectionState = connection.state;
  /** The engine's capabilities decide which feature tabs exist (ControlNet only once it works). */
  private readonly serverInfo = new ServerInfoController(this);
  private disk: DiskStatus | undefined;
  private offServerStatus: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // `#server=<url>&token=<t>` (the link setup_colab.sh prints): remember, connect, clear the bar.
    const linked = takeServerLink(location, history, localStorage);
    if (linked) {
      updateSettings({ serverUrl: linked.serverUrl, token: linked.token });
      this.tab = 'generate';
    }
    const token = tokenFromHash(location.hash);
    if (token) {
      updateSettings({ token });
      // Do not leave the token in the address bar, history or screenshots.
      history.replaceState(null, '', `${location.pathname}${location.search}${hashForTab('generate')}`);
      this.tab = 'generate';
    }
    applyTheme(this.theme);
    window.addEventListener('hashchange', this.onHashChange);
    connection.addEventListener('state', this.onConnectionState);
    this.addEventListener('easel-navigate', (e) => this.go(e.detail.tab));
    this.addEventListener('easel-send-image', (e) => void this.sendImage(e.detail.image, e.detail.target));
    this.addEventListener('easel-use-params', (e) => {
      this.go('generate');
      void this.updateComplete.then(() => this.generatePanel()?.applyParams(e.detail.image));
    });
    this.addEventListener('easel-fix-image', (e) => {
      this.go('generate');
      void this.updateComplete.then(() => this.generatePanel()?.fixImage(e.detail.image));
    });
    // A full disk on the server (new images wait) and its end, once each.
    this.offServerStatus = connection.on('server:status', (e) => {
      const notice = diskNotice(this.disk, e.disk);
      this.disk = e.disk;
      if (notice) toast(notice.message, notice.kind);
    });
    startServices();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHashChange);
    connection.removeEventListener('state', this.onConnectionState);
    this.offServerStatus?.();
  }

  private readonly onHashChange = (): void => {
    this.tab = tabFromHash(location.hash);
    this.menuOpen = false;
  };

  private readonly onConnectionState = (): void => {
    const s = connection.state;
    const before = this.lastState;
    this.lastState = s;
    if (s === 'unauthorized') toast(describeError(connection.lastError), 'error');
    else if (s === 'connected' && before === 'disconnected') toast('Reconnected to the server', 'success');
    else if (s === 'disconnected' && before === 'connected') toast('Connection lost: retrying every 5 s. Actions wait until it is back.', 'warning');
    else if (s === 'disconnected' && connection.lastError?.code === 'rate_limited') toast(describeError(connection.lastError), 'error');
  };

  private go(tab: Tab): void {
    this.menuOpen = false;
    if (location.hash !== hashForTab(tab)) location.hash = hashForTab(tab);
    this.tab = tab;
  }

  private generatePanel(): EaselGeneratePanel | null {
    return this.renderRoot.querySelector('easel-generate-panel');
  }

  private async sendImage(image: Parameters<EaselGeneratePanel['useImage']>[0], target: 'img2img' | 'inpaint' | 'controlnet'): Promise<void> {
    if (target === 'controlnet') {
      this.go('controlnet');
      await this.updateComplete;
      await this.renderRoot.querySelector<EaselControlNetPanel>('easel-controlnet-panel')?.receiveImage(image);
      return;
    }
    this.go(target === 'img2img' ? 'generate' : 'inpaint');
    await this.updateComplete;
    if (target === 'img2img') await this.generatePanel()?.useImage(image);
    else await this.renderRoot.querySelector<EaselInpaintPanel>('easel-inpaint-panel')?.receiveImage(image);
  }

  private toggleTheme(): void {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    updateSettings({ theme: this.theme });
    applyTheme(this.theme);
  }

  private renderPanel(tab: Tab) {
    switch (tab) {
      case 'generate':
        return html`<easel-generate-panel></easel-generate-panel>`;
      case 'inpaint':
        return html`<easel-inpaint-panel></easel-inpaint-panel>`;
      case 'controlnet':
        return html`<easel-controlnet-panel></easel-controlnet-panel>`;
      case 'gallery':
        return html`<easel-gallery-panel></easel-gallery-panel>`;
      case 'settings':
        return html`<easel-settings-panel .theme=${this.theme} @theme-change=${() => this.toggleTheme()}></easel-settings-panel>`;
    }
  }

  private renderMenu() {
    if (!this.menuOpen) return nothing;
    return html`<div class="menu-sheet" @click=${(e: Event) => e.target === e.currentTarget && (this.menuOpen = false)}>
      <div class="sheet" role="dialog" aria-label="Menu">
        <button @click=${() => this.toggleTheme()}>${this.theme === 'dark' ? icons.sun : icons.moon} ${this.theme === 'dark' ? 'Light theme' : 'Dark theme'}</button>
        <button @click=${() => this.go('settings')}>${icons.settings} Server and settings</button>
        <button
          @click=${() => {
            connection.reconnectNow();
            this.menuOpen = false;
          }}
        >
          ${icons.recycle} Reconnect now
        </button>
        <button @click=${() => (this.menuOpen = false)}>${icons.close} Close</button>
      </div>
    </div>`;
  }

  override render() {
    const tabs = visibleTabs(this.serverInfo.info.capabilities);
    // A link to a tab the server cannot back (yet) shows Generate instead of a dead end.
    const shown = tabs.includes(this.tab) ? this.tab : DEFAULT_TAB;
    this.visited.add(shown);
    return html`
      <header>
        <span class="brand"><img src="${import.meta.env.BASE_URL}icons/icon.svg" alt="" />Easel</span>
        <span class="spacer"></span>
        <easel-drive-status></easel-drive-status>
        <easel-connection-status></easel-connection-status>
        <button class="icon theme-toggle" aria-label="Switch theme" title="Switch theme" @click=${() => this.toggleTheme()}>
          ${this.theme === 'dark' ? icons.sun : icons.moon}
        </button>
        <button class="icon menu-button" aria-label="Menu" aria-expanded=${this.menuOpen} @click=${() => (this.menuOpen = !this.menuOpen)}>${icons.menu}</button>
      </header>
      <nav aria-label="Tabs" style="--tab-count: ${tabs.length}">
        ${tabs.map(
          (t) => html`<a href=${hashForTab(t)} aria-current=${t === shown ? 'page' : 'false'} data-tab=${t}>${icons[t]}<span>${TAB_LABELS[t]}</span></a>`,
        )}
      </nav>
      <main>
        ${repeat(
          tabs.filter((t) => this.visited.has(t)),
          (t) => t,
          (t) => html`<section data-panel=${t} ?hidden=${t !== shown} aria-label=${TAB_LABELS[t]}>${this.renderPanel(t)}</section>`,
        )}
      </main>
      ${this.renderMenu()}
      <easel-toast-stack></easel-toast-stack>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-app': EaselApp;
  }
}

// <easel-settings-panel>: the remembered servers (<easel-server-list>), theme, the models list
// and download form, Google Drive status, and what is stored offline on this device.
//
// Public surface: property `theme`; event `theme-change` (the shell toggles and remembers it).
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import './model-manager.js';
import './starter-models.js';
import './server-list.js';
import './drive-panel.js';
import './expander-picker.js';
import { formatBytes } from '../../data/models.js';
import { currentSettings, galleryDb } from '../../data/services.js';
import type { Theme } from '../../data/settings.js';
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
  @state() private storage = '';
  @state() private cachedImages = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refreshStorage();
  }

  private async refreshStorage(): Promise<void> {
    const [usage, count] = await Promise.all([galleryDb.usage(), galleryDb.countImages().catch(() => 0)]);
    this.cachedImages = count;
    this.storage = usage.usedBytes !== null ? `${formatBytes(usage.usedBytes)}${usage.quotaBytes ? ` of ${formatBytes(usage.quotaBytes)}` : ''}` : 'unknown';
  }

  override render() {
    return html`
      <section class="card">
        <h2>Servers</h2>
        <easel-server-list></easel-server-list>
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
        <easel-expander-picker></easel-expander-picker>
      </section>
      <section class="card" data-testid="starter-card">
        <h2>Starter models</h2>
        <easel-starter-models></easel-starter-models>
      </section>
      <section class="card">
        <h2>Google Drive backup</h2>
        <easel-drive-panel></easel-drive-panel>
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

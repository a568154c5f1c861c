// <easel-expander-picker>: Settings → which prompt expander the ✨ button uses (remembered in this
// browser). Lists the server's `prompt_expander` models; "Server default" leaves the choice to the
// server (MagicPrompt-Stable-Diffusion when installed). Download one under Models with type
// "Prompt expander" and source hf:Gustavosta/MagicPrompt-Stable-Diffusion.
import { LitElement, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { loadExpanderModel, saveExpanderModel } from '../../data/enhance.js';
import { listModels, onModelsChanged } from '../../data/models.js';
import { connection } from '../../data/services.js';
import { controls } from '../shared/styles.js';

@customElement('easel-expander-picker')
export class EaselExpanderPicker extends LitElement {
  static override styles = [controls];

  @state() private names: string[] = [];
  @state() private chosen = loadExpanderModel(localStorage);
  private off: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = onModelsChanged(connection, () => void this.refresh());
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async refresh(): Promise<void> {
    try {
      this.names = (await listModels(connection, 'prompt_expander')).map((m) => m.name);
    } catch {
      this.names = [];
    }
  }

  private onChange(e: Event): void {
    this.chosen = (e.target as HTMLSelectElement).value;
    saveExpanderModel(localStorage, this.chosen);
  }

  override render() {
    const names = this.chosen && !this.names.includes(this.chosen) ? [...this.names, this.chosen] : this.names;
    return html`<div class="field">
      <label for="expander">Prompt expander (✨)</label>
      <select id="expander" data-testid="expander-model" .value=${this.chosen} @change=${this.onChange}>
        <option value="" ?selected=${this.chosen === ''}>Server default</option>
        ${names.map((n) => html`<option value=${n} ?selected=${n === this.chosen}>${n}</option>`)}
      </select>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-expander-picker': EaselExpanderPicker;
  }
}

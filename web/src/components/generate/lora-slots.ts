// <easel-lora-slots>: up to 7 LoRA slots (name from the server's list, weight), with each LoRA's
// trigger words when the server knows them (tap one to add it to the prompt).
//
// Public surface: properties `slots` (LoraSlot[]), `known` (LoraInfo[]), `errors` (Map<index,
// message>); events `slots-change` (CustomEvent<LoraSlot[]>), `trigger-word` (CustomEvent<string>).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { addSlot, canAddSlot, MAX_LORA_SLOTS, removeSlot, triggerWordsFor, updateSlot, type LoraInfo, type LoraSlot } from '../../logic/lora-slots.js';
import { icons } from '../shared/icons.js';
import { controls } from '../shared/styles.js';

@customElement('easel-lora-slots')
export class EaselLoraSlots extends LitElement {
  static override styles = [
    controls,
    css`
      .slot {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 96px var(--touch);
        gap: 8px;
        align-items: center;
        margin-bottom: 8px;
      }
      .words {
        grid-column: 1 / -1;
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .words button {
        min-height: 32px;
        font-size: 0.8rem;
        padding: 0 10px;
        border-radius: 999px;
      }
      .head {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 6px;
      }
      .error-text {
        grid-column: 1 / -1;
        margin-top: -4px;
      }
    `,
  ];

  @property({ attribute: false }) slots: LoraSlot[] = [];
  @property({ attribute: false }) known: readonly LoraInfo[] = [];
  @property({ attribute: false }) errors: ReadonlyMap<number, string> = new Map();

  private change(next: LoraSlot[]): void {
    this.dispatchEvent(new CustomEvent('slots-change', { detail: next }));
  }

  private renderSlot(slot: LoraSlot, i: number) {
    const words = slot.name ? triggerWordsFor(slot.name, this.known) : [];
    const listed = this.known.some((k) => k.name === slot.name);
    return html`<div class="slot" data-testid="lora-slot">
      <select
        aria-label="LoRA ${i + 1}"
        .value=${slot.name}
        @change=${(e: Event) => this.change(updateSlot(this.slots, i, { name: (e.target as HTMLSelectElement).value }))}
      >
        <option value="">— choose a LoRA —</option>
        ${slot.name && !listed ? html`<option value=${slot.name}>${slot.name} (not on server)</option>` : nothing}
        ${this.known.map((k) => html`<option value=${k.name} ?selected=${k.name === slot.name}>${k.name}</option>`)}
      </select>
      <input
        type="number"
        step="0.05"
        min="-10"
        max="10"
        aria-label="LoRA ${i + 1} weight"
        .value=${String(slot.weight)}
        @change=${(e: Event) => this.change(updateSlot(this.slots, i, { weight: (e.target as HTMLInputElement).valueAsNumber }))}
      />
      <button class="icon" aria-label="Remove LoRA ${i + 1}" @click=${() => this.change(removeSlot(this.slots, i))}>${icons.close}</button>
      ${this.errors.get(i) ? html`<div class="error-text">${this.errors.get(i)}</div>` : nothing}
      ${words.length
        ? html`<div class="words" aria-label="Trigger words">
            ${words.map((w) => html`<button title="Add to prompt" @click=${() => this.dispatchEvent(new CustomEvent('trigger-word', { detail: w }))}>${w}</button>`)}
          </div>`
        : nothing}
    </div>`;
  }

  override render() {
    return html`<div class="head">
        <span class="label">LoRAs (${this.slots.length}/${MAX_LORA_SLOTS})</span>
        <button ?disabled=${!canAddSlot(this.slots)} title=${canAddSlot(this.slots) ? '' : `At most ${MAX_LORA_SLOTS} LoRAs at once`} @click=${() => this.change(addSlot(this.slots))}>+ Add LoRA</button>
      </div>
      ${this.slots.map((s, i) => this.renderSlot(s, i))}
      ${this.known.length === 0 && this.slots.length > 0 ? html`<div class="muted">The server lists no LoRAs yet.</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-lora-slots': EaselLoraSlots;
  }
}

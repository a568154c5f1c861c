// <easel-prompt-field>: a prompt textarea with the A1111-style token counter ("12/75", "76/150").
// The count is the server's when it can tokenize, else a local estimate shown as "≈12/75".
//
// Public surface: properties `label`, `value`, `name`, `error`; event `value-change`
// (CustomEvent<string>) on every edit.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DebouncedTask } from '../../controllers/debounce-controller.js';
import { tokens } from '../../data/services.js';
import { formatTokenCount, type TokenCount } from '../../logic/token-count.js';
import { controls } from '../shared/styles.js';

@customElement('easel-prompt-field')
export class EaselPromptField extends LitElement {
  static override styles = [
    controls,
    css`
      .head {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 8px;
      }
      .count {
        font-family: var(--mono);
        font-size: 0.8rem;
        color: var(--text-muted);
        white-space: nowrap;
      }
      .count.over {
        color: var(--warn);
      }
      textarea {
        min-height: 96px;
      }
    `,
  ];

  @property() label = 'Prompt';
  @property() name = 'prompt';
  @property() value = '';
  @property() error: string | undefined;
  @property({ type: Number }) rows = 3;

  private readonly count = new DebouncedTask<string, TokenCount>(this, (text) => tokens.count(text), tokens.estimate(''), 400);

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('value')) this.count.schedule(this.value, tokens.estimate(this.value));
  }

  private onInput(e: Event): void {
    this.value = (e.target as HTMLTextAreaElement).value;
    this.dispatchEvent(new CustomEvent('value-change', { detail: this.value }));
  }

  override render() {
    const c = this.count.value;
    const id = `f-${this.name}`;
    return html`<div class="field ${this.error ? 'invalid' : ''}">
      <div class="head">
        <label for=${id}>${this.label}</label>
        <span
          class="count ${c.max > 75 ? 'over' : ''}"
          data-testid="token-count-${this.name}"
          title=${c.exact ? 'tokens (CLIP tokenizer on the server)' : 'estimated tokens (the server did not count them)'}
          >${formatTokenCount(c)}${c.exact ? '' : ' est.'}</span
        >
      </div>
      <textarea id=${id} name=${this.name} rows=${this.rows} .value=${this.value} @input=${this.onInput} spellcheck="false" autocapitalize="off"></textarea>
      ${this.error ? html`<div class="error-text">${this.error}</div>` : ''}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-prompt-field': EaselPromptField;
  }
}

// <easel-prompt-enhancer>: the ✨ button beside the prompt. It asks the server's prompt expander
// (MagicPrompt-style GPT-2) for three variations of the current prompt, streams them into a list
// as they are written, and lets the user take one: "Use" replaces the prompt, "Append" adds the new
// part. Cancel stops a running expansion. Sized for touch (44 px targets, one column on phones).
//
// Public surface: property `prompt` (the current prompt text); event `prompt-use`
// (CustomEvent<string>: the new prompt text).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { applySuggestion, enhancePrompt, loadExpanderModel, type EnhanceRun } from '../../data/enhance.js';
import { connection } from '../../data/services.js';
import { controls } from '../shared/styles.js';

const VARIATIONS = 3;

@customElement('easel-prompt-enhancer')
export class EaselPromptEnhancer extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
        margin: 4px 0 8px;
      }
      .bar {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
      }
      button {
        min-height: 44px;
      }
      ul {
        list-style: none;
        margin: 8px 0 0;
        padding: 0;
        display: grid;
        gap: 8px;
      }
      li {
        border: 1px solid var(--border, #444);
        border-radius: 8px;
        padding: 8px;
        display: grid;
        gap: 6px;
      }
      .text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        font-size: 0.9rem;
      }
      .text.pending {
        color: var(--text-muted);
      }
      .row {
        display: flex;
        gap: 8px;
      }
      .row button {
        flex: 1;
      }
      .status {
        font-size: 0.85rem;
        color: var(--text-muted);
      }
      .error {
        color: var(--danger, #e66);
      }
    `,
  ];

  @property() prompt = '';
  @state() private suggestions: string[] = [];
  @state() private finished: boolean[] = [];
  @state() private run: EnhanceRun | undefined;
  @state() private error = '';
  @state() private model = '';

  private start(): void {
    this.run?.cancel();
    this.error = '';
    this.suggestions = [];
    this.finished = [];
    const model = loadExpanderModel(localStorage);
    const run = enhancePrompt(
      connection,
      this.prompt,
      { n: VARIATIONS, seed: Math.floor(Math.random() * 2 ** 32), ...(model ? { model } : {}) },
      (i, text) => {
        const next = [...this.suggestions];
        next[i] = text;
        this.suggestions = next;
      },
    );
    this.run = run;
    run.done.then(
      (r) => {
        if (this.run !== run) return;
        this.suggestions = r.prompts;
        this.finished = r.prompts.map(() => true);
        this.model = r.model;
        this.run = undefined;
      },
      (err: unknown) => {
        if (this.run !== run) return;
        this.run = undefined;
        const code = (err as { code?: string }).code;
        this.error = code === 'cancelled' ? '' : err instanceof Error ? err.message : String(err);
      },
    );
  }

  private take(text: string, mode: 'replace' | 'append'): void {
    this.dispatchEvent(new CustomEvent('prompt-use', { detail: applySuggestion(this.prompt, text, mode) }));
  }

  override render() {
    const busy = this.run !== undefined;
    return html`<div class="bar">
        <button type="button" data-testid="enhance" ?disabled=${busy} @click=${() => this.start()} title="Expand the prompt with a MagicPrompt-style model">✨ Enhance</button>
        ${busy ? html`<button type="button" data-testid="enhance-cancel" @click=${() => this.run?.cancel()}>Cancel</button>` : nothing}
        ${busy ? html`<span class="status" role="status">Writing…</span>` : this.model ? html`<span class="status">${this.model}</span>` : nothing}
      </div>
      ${this.error ? html`<div class="status error" role="alert" data-testid="enhance-error">${this.error}</div>` : nothing}
      ${this.suggestions.length
        ? html`<ul data-testid="enhance-suggestions">
            ${this.suggestions.map(
              (s, i) => html`<li data-testid="enhance-suggestion">
                <div class="text ${this.finished[i] ? '' : 'pending'}">${s ?? ''}</div>
                <div class="row">
                  <button type="button" ?disabled=${!this.finished[i]} title=${this.finished[i] ? 'Use this prompt' : 'Still writing this suggestion'} data-testid="enhance-use" @click=${() => this.take(s, 'replace')}>Use</button>
                  <button type="button" ?disabled=${!this.finished[i]} title=${this.finished[i] ? 'Add the new words to your prompt' : 'Still writing this suggestion'} data-testid="enhance-append" @click=${() => this.take(s, 'append')}>Append</button>
                </div>
              </li>`,
            )}
          </ul>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-prompt-enhancer': EaselPromptEnhancer;
  }
}

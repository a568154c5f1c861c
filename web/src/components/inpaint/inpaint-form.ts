// <easel-inpaint-form>: the Inpaint tab's parameters. The prompt, negative prompt, model, VAE,
// sampler, schedule, steps, CFG, seed and the rest are the ones the Generate tab uses (form-store.ts
// and shared/form-fields.ts: an edit here shows there); denoising strength, mask blur, "inpaint only masked" with its padding,
// masked content and the processing size belong to this tab.
//
// Public surface: properties `shared` (SharedForm), `settings` (InpaintSettings), `info`
// (ServerInfo), `errors` (FieldErrors), `imageWidth`/`imageHeight` (for the size shown); events
// `shared-change` (CustomEvent<Partial<SharedForm>>), `settings-change`
// (CustomEvent<Partial<InpaintSettings>>).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SharedForm } from '../generate/form-store.js';
import { FALLBACK_INFO, type ServerInfo } from '../../data/info.js';
import type { FieldErrors } from '../../logic/generation-form.js';
import { INPAINT_LIMITS, MASKED_CONTENT_LABELS, processingSize, type InpaintSettings, type MaskedContent } from '../../logic/inpaint-params.js';
import { cfgField, formField, modelField, promptFields, samplerField, schedulerField, seedField, stepsField, vaeField, type ParamFieldContext } from '../shared/form-fields.js';
import { controls } from '../shared/styles.js';

@customElement('easel-inpaint-form')
export class EaselInpaintForm extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: grid;
        gap: 12px;
      }
      .check {
        display: flex;
        align-items: center;
        gap: 8px;
        min-height: var(--touch);
        margin: 0;
        color: var(--text);
        font-size: 0.95rem;
      }
      details summary {
        min-height: var(--touch);
        display: flex;
        align-items: center;
        cursor: pointer;
        color: var(--text-muted);
      }
      details[open] > .grid2 {
        margin-top: 4px;
      }
    `,
  ];

  @property({ attribute: false }) shared!: SharedForm;
  @property({ attribute: false }) settings!: InpaintSettings;
  @property({ attribute: false }) info: ServerInfo = FALLBACK_INFO;
  @property({ attribute: false }) errors: FieldErrors = {};
  @property({ type: Number }) imageWidth = 0;
  @property({ type: Number }) imageHeight = 0;

  private share(patch: Partial<SharedForm>): void {
    this.dispatchEvent(new CustomEvent('shared-change', { detail: patch }));
  }

  private set(patch: Partial<InpaintSettings>): void {
    this.dispatchEvent(new CustomEvent('settings-change', { detail: patch }));
  }

  private num(e: Event): number {
    return (e.target as HTMLInputElement).valueAsNumber;
  }

  private field(name: string, label: string, control: unknown) {
    return formField('i-', name, label, control, this.errors[name], 'inpaint-');
  }

  /** The parameters the Generate tab shows too, with this tab's ids. */
  private params(): ParamFieldContext {
    return { idPrefix: 'i-', testIdPrefix: 'inpaint-', form: this.shared, info: this.info, errors: this.errors, change: (patch) => this.share(patch) };
  }

  private renderShared() {
    const p = this.params();
    return html`<details>
      <summary>Model, VAE, sampler, steps, CFG, seed (shared with Generate)</summary>
      <div class="grid2">${modelField(p)} ${vaeField(p)} ${samplerField(p)} ${schedulerField(p)} ${stepsField(p)} ${cfgField(p)} ${seedField(p)}</div>
    </details>`;
  }

  private renderSize() {
    const s = this.settings;
    const size = processingSize(s, this.imageWidth, this.imageHeight);
    return html`<label class="check"><input type="checkbox" data-testid="size-from-image" .checked=${s.sizeFromImage} @change=${(e: Event) => {
      const on = (e.target as HTMLInputElement).checked;
      this.set(on ? { sizeFromImage: true } : { sizeFromImage: false, width: size.width, height: size.height });
    }} />Size from the image (${size.width}×${size.height})</label>
      ${s.sizeFromImage
        ? nothing
        : html`<div class="grid2">
            ${this.field('width', 'Width', html`<input id="i-width" type="number" step="8" min="64" max="2048" .value=${String(s.width)} @change=${(e: Event) => this.set({ width: this.num(e) })} />`)}
            ${this.field('height', 'Height', html`<input id="i-height" type="number" step="8" min="64" max="2048" .value=${String(s.height)} @change=${(e: Event) => this.set({ height: this.num(e) })} />`)}
          </div>`}`;
  }

  override render() {
    const s = this.settings;
    return html`
      ${promptFields(this.params(), { prompt: 'inpaint-prompt', negative: 'inpaint-negative' })}
      ${this.field(
        'strength',
        `Denoising strength: ${s.strength.toFixed(2)}`,
        html`<input id="i-strength" data-testid="inpaint-strength" type="range" min="0" max="1" step="0.01" .value=${String(s.strength)} @input=${(e: Event) => this.set({ strength: this.num(e) })} />`,
      )}
      <div class="grid2">
        ${this.field('mask_blur', 'Mask blur', html`<input id="i-mask_blur" data-testid="mask-blur" type="number" min="0" max=${INPAINT_LIMITS.maxMaskBlur} .value=${String(s.maskBlur)} @change=${(e: Event) => this.set({ maskBlur: this.num(e) })} />`)}
        ${this.field(
          'inpainting_fill',
          'Masked content',
          html`<select id="i-inpainting_fill" data-testid="masked-content" @change=${(e: Event) => this.set({ maskedContent: (e.target as HTMLSelectElement).value as MaskedContent })}>
            ${(Object.keys(MASKED_CONTENT_LABELS) as MaskedContent[]).map((k) => html`<option value=${k} ?selected=${k === s.maskedContent}>${MASKED_CONTENT_LABELS[k]}</option>`)}
          </select>`,
        )}
      </div>
      <div class="grid2">
        <label class="check"><input type="checkbox" data-testid="only-masked" .checked=${s.onlyMasked} @change=${(e: Event) => this.set({ onlyMasked: (e.target as HTMLInputElement).checked })} />Inpaint only masked</label>
        ${this.field(
          'inpaint_full_res_padding',
          'Padding (px)',
          html`<input id="i-inpaint_full_res_padding" data-testid="padding" type="number" min="0" max=${INPAINT_LIMITS.maxPadding} ?disabled=${!s.onlyMasked} title=${s.onlyMasked ? '' : 'Used only with "Inpaint only masked"'} .value=${String(s.padding)} @change=${(e: Event) => this.set({ padding: this.num(e) })} />`,
        )}
      </div>
      ${this.renderSize()} ${this.renderShared()}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-inpaint-form': EaselInpaintForm;
  }
}

// <easel-hires-fields>: the Generate tab's hires fix section, A1111's controls: enable, upscaler
// (latent modes, None/Lanczos/Nearest, the server's upscaler files), upscale by or resize to,
// second pass steps, denoising strength, hires sampler/scheduler and prompts, keep the first pass.
// Collapsed by default; open/closed and every value are remembered with the form.
//
// Public surface: properties `hires` (HiresFormState), `samplers`/`schedulers` (NamedOption[]),
// `upscalers` (file names), `errors` (FieldErrors, `hires.*` keys), `width`/`height` (first pass),
// `available` (false: the engine has no hires fix); event `hires-change` (CustomEvent<Partial<HiresFormState>>).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { NamedOption } from '../../data/info.js';
import type { FieldErrors } from '../../logic/generation-form.js';
import { defaultHires, hiresTargetSize, hiresUpscalerChoices, type HiresFormState } from '../../logic/hires-form.js';
import { controls } from '../shared/styles.js';

@customElement('easel-hires-fields')
export class EaselHiresFields extends LitElement {
  static override styles = [
    controls,
    css`
      details summary {
        min-height: var(--touch);
        display: flex;
        align-items: center;
        gap: 8px;
        cursor: pointer;
      }
      .body {
        display: grid;
        gap: 12px;
        margin-top: 8px;
      }
      .check {
        display: flex;
        align-items: center;
        gap: 8px;
        min-height: var(--touch);
      }
      .muted {
        font-size: 0.85rem;
      }
    `,
  ];

  @property({ attribute: false }) hires: HiresFormState = defaultHires();
  @property({ attribute: false }) samplers: readonly NamedOption[] = [];
  @property({ attribute: false }) schedulers: readonly NamedOption[] = [];
  @property({ attribute: false }) upscalers: readonly string[] = [];
  @property({ attribute: false }) errors: FieldErrors = {};
  @property({ type: Number }) width = 512;
  @property({ type: Number }) height = 512;
  @property({ type: Boolean }) available = true;

  private change(patch: Partial<HiresFormState>): void {
    this.dispatchEvent(new CustomEvent('hires-change', { detail: patch }));
  }

  private field(name: string, label: string, control: unknown) {
    const error = this.errors[`hires.${name}`];
    return html`<div class="field ${error ? 'invalid' : ''}">
      <label for="hr-${name}">${label}</label>${control}${error ? html`<div class="error-text" data-testid="error-hires-${name}">${error}</div>` : nothing}
    </div>`;
  }

  private number(name: string, key: keyof HiresFormState, attrs: { min: number; max: number; step: number }) {
    const h = { ...defaultHires(), ...this.hires };
    return html`<input
      id="hr-${name}"
      type="number"
      min=${attrs.min}
      max=${attrs.max}
      step=${attrs.step}
      .value=${String(h[key])}
      @change=${(e: Event) => this.change({ [key]: (e.target as HTMLInputElement).valueAsNumber } as Partial<HiresFormState>)}
    />`;
  }

  private select(name: string, current: string, options: readonly NamedOption[], same: string | null, key: keyof HiresFormState) {
    const listed = options.some((o) => o.id === current) || (same !== null && current === '');
    return html`<select id="hr-${name}" @change=${(e: Event) => this.change({ [key]: (e.target as HTMLSelectElement).value } as Partial<HiresFormState>)}>
      ${same !== null ? html`<option value="" ?selected=${current === ''}>${same}</option>` : nothing}
      ${listed ? nothing : html`<option value=${current} selected>${current}</option>`}
      ${options.map((o) => html`<option value=${o.id} ?selected=${o.id === current}>${o.label}</option>`)}
    </select>`;
  }

  override render() {
    const h = { ...defaultHires(), ...this.hires };
    const target = hiresTargetSize(this.width, this.height, h);
    const upscalers = hiresUpscalerChoices(this.upscalers).map((n) => ({ id: n, label: n }));
    return html`<details
      ?open=${h.open}
      data-testid="hires"
      @toggle=${(e: Event) => {
        const open = (e.target as HTMLDetailsElement).open;
        if (open !== h.open) this.change({ open });
      }}
    >
      <summary>Hires fix ${h.enabled ? html`<span class="muted" data-testid="hires-summary">on · ${target.width}×${target.height}</span>` : html`<span class="muted">off</span>`}</summary>
      <div class="body">
        ${this.available ? nothing : html`<div class="muted" data-testid="hires-unavailable">This server's engine has no hires fix.</div>`}
        <label class="check"
          ><input type="checkbox" data-testid="hires-enabled" .checked=${h.enabled} ?disabled=${!this.available} title=${this.available ? 'Upscale the image and refine it in a second pass' : 'This server cannot run hires fix'} @change=${(e: Event) => this.change({ enabled: (e.target as HTMLInputElement).checked })} />
          Upscale, then refine with a second pass</label
        >
        <div class="grid2">
          ${this.field('upscaler', 'Upscaler', this.select('upscaler', h.upscaler, upscalers, null, 'upscaler'))}
          ${this.field('scale', 'Upscale by', this.number('scale', 'scale', { min: 1, max: 4, step: 0.05 }))}
          ${this.field('steps', 'Hires steps (0 = same)', this.number('steps', 'steps', { min: 0, max: 150, step: 1 }))}
          ${this.field('denoising_strength', 'Denoising strength', this.number('denoising_strength', 'denoisingStrength', { min: 0.01, max: 1, step: 0.01 }))}
          ${this.field('width', 'Resize width to (0 = by scale)', this.number('width', 'resizeX', { min: 0, max: 8192, step: 8 }))}
          ${this.field('height', 'Resize height to (0 = by scale)', this.number('height', 'resizeY', { min: 0, max: 8192, step: 8 }))}
          ${this.field('sampler', 'Hires sampler', this.select('sampler', h.sampler, this.samplers, 'Same as first pass', 'sampler'))}
          ${this.field('scheduler', 'Hires schedule', this.select('scheduler', h.scheduler, this.schedulers, 'Same as first pass', 'scheduler'))}
        </div>
        ${this.field(
          'prompt',
          'Hires prompt (empty = same)',
          html`<textarea id="hr-prompt" rows="2" .value=${h.prompt} @change=${(e: Event) => this.change({ prompt: (e.target as HTMLTextAreaElement).value })}></textarea>`,
        )}
        ${this.field(
          'negative_prompt',
          'Hires negative prompt (empty = same)',
          html`<textarea id="hr-negative_prompt" rows="2" .value=${h.negativePrompt} @change=${(e: Event) => this.change({ negativePrompt: (e.target as HTMLTextAreaElement).value })}></textarea>`,
        )}
        <label class="check"
          ><input type="checkbox" data-testid="hires-save-first-pass" .checked=${h.saveFirstPass} @change=${(e: Event) => this.change({ saveFirstPass: (e.target as HTMLInputElement).checked })} />
          Also keep the image before the hires fix</label
        >
      </div>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-hires-fields': EaselHiresFields;
  }
}

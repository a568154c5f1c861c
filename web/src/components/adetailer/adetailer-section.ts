// <easel-adetailer-section>: ADetailer in the Generate tab — on/off, the detector (files in the
// server's models/detectors), its prompt, confidence, dilate/erode and denoising; the rest (negative
// prompt, mask blur, padding, top-k, merge, steps, noise multiplier) under "More", with ADetailer's
// "Restore faces" shown switched off and why (Easel has no face restorer). The state survives
// reloads (logic/adetailer-form.ts). The detection preview (boxes and masks) arrives as the job's preview.
//
// Public surface: `units()` → the `adetailer` units to send (undefined when off), throws with the
// field's message when a value is out of range; `fixUnits()` → the unit for "Fix faces/hands"
// (the section's settings even when it is switched off).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { listModels } from '../../data/models.js';
import { connection } from '../../data/services.js';
import { loadADetailerForm, saveADetailerForm, toADetailerUnit, validateADetailerForm, type ADetailerFormState, type AdetailerUnitInput } from '../../logic/adetailer-form.js';
import { controls } from '../shared/styles.js';
import { RESTORE_FACE_UNAVAILABLE } from '../../../../native/adetailer/args.js';

@customElement('easel-adetailer-section')
export class EaselADetailerSection extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
      }
      fieldset {
        border: 1px solid var(--border, #444);
        border-radius: 10px;
        padding: 10px 12px;
        display: grid;
        gap: 10px;
        min-width: 0;
      }
      legend {
        padding: 0 6px;
      }
      .grid3 {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 8px;
      }
      details > div {
        display: grid;
        gap: 10px;
        margin-top: 10px;
      }
      textarea {
        min-height: 56px;
      }
    `,
  ];

  @state() private form: ADetailerFormState = loadADetailerForm();
  @state() private detectors: string[] = [];
  @state() private errors: Record<string, string> = {};

  private readonly onState = (): void => {
    if (connection.state === 'connected') void this.loadDetectors();
  };

  override connectedCallback(): void {
    super.connectedCallback();
    connection.addEventListener('state', this.onState);
    this.onState();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    connection.removeEventListener('state', this.onState);
  }

  private async loadDetectors(): Promise<void> {
    try {
      this.detectors = (await listModels(connection, 'detector')).map((m) => m.name);
    } catch {
      // an older server: the typed model name still works
    }
  }

  private set(patch: Partial<ADetailerFormState>): void {
    this.form = { ...this.form, ...patch };
    saveADetailerForm(this.form);
    if (Object.keys(this.errors).length) this.errors = validateADetailerForm(this.form);
  }

  /** The units for `generate` (undefined when ADetailer is off). */
  units(): AdetailerUnitInput[] | undefined {
    if (!this.form.enabled) return undefined;
    return [this.checked()];
  }

  /** The unit "Fix faces/hands" runs on a gallery image. */
  fixUnits(): AdetailerUnitInput[] {
    return [this.checked()];
  }

  private checked(): AdetailerUnitInput {
    this.errors = validateADetailerForm(this.form);
    const first = Object.entries(this.errors)[0];
    if (first) throw new Error(`ADetailer ${first[0]}: ${first[1]}`);
    return toADetailerUnit(this.form);
  }

  private num(key: keyof ADetailerFormState) {
    return (e: Event) => this.set({ [key]: (e.target as HTMLInputElement).valueAsNumber } as Partial<ADetailerFormState>);
  }

  private field(name: string, label: string, control: unknown) {
    const error = this.errors[name];
    return html`<div class="field ${error ? 'invalid' : ''}">
      <label for="ad-${name}">${label}</label>${control}${error ? html`<div class="error-text" data-testid="ad-error-${name}">${error}</div>` : nothing}
    </div>`;
  }

  override render() {
    const f = this.form;
    const names = this.detectors.includes(f.model) || !f.model ? this.detectors : [f.model, ...this.detectors];
    return html`<fieldset data-testid="adetailer-section">
      <legend>
        <label><input type="checkbox" data-testid="ad-enable" .checked=${f.enabled} @change=${(e: Event) => this.set({ enabled: (e.target as HTMLInputElement).checked })} /> ADetailer (fix faces and hands)</label>
      </legend>
      ${f.enabled
        ? html`${this.field(
              'ad_model',
              'Detector',
              html`<select id="ad-ad_model" data-testid="ad-model" @change=${(e: Event) => this.set({ model: (e.target as HTMLSelectElement).value })}>
                ${names.length === 0 ? html`<option value="">— no detectors in models/detectors —</option>` : nothing}
                ${names.map((n) => html`<option value=${n} ?selected=${n === f.model}>${n}${this.detectors.includes(n) ? '' : ' (not on server)'}</option>`)}
              </select>`,
            )}
            ${this.field(
              'ad_prompt',
              'Prompt (empty: the main prompt; [SEP] per detection, [PROMPT], [SKIP])',
              html`<textarea id="ad-ad_prompt" data-testid="ad-prompt" .value=${f.prompt} @change=${(e: Event) => this.set({ prompt: (e.target as HTMLTextAreaElement).value })}></textarea>`,
            )}
            <div class="grid3">
              ${this.field('ad_confidence', 'Confidence', html`<input id="ad-ad_confidence" data-testid="ad-confidence" type="number" min="0" max="1" step="0.05" .value=${String(f.confidence)} @change=${this.num('confidence')} />`)}
              ${this.field('ad_dilate_erode', 'Dilate / erode', html`<input id="ad-ad_dilate_erode" type="number" min="-128" max="128" step="1" .value=${String(f.dilateErode)} @change=${this.num('dilateErode')} />`)}
              ${this.field('ad_denoising_strength', 'Denoising', html`<input id="ad-ad_denoising_strength" type="number" min="0" max="1" step="0.05" .value=${String(f.denoising)} @change=${this.num('denoising')} />`)}
            </div>
            <details>
              <summary>More</summary>
              <div>
                ${this.field(
                  'ad_negative_prompt',
                  'Negative prompt',
                  html`<textarea id="ad-ad_negative_prompt" .value=${f.negativePrompt} @change=${(e: Event) => this.set({ negativePrompt: (e.target as HTMLTextAreaElement).value })}></textarea>`,
                )}
                <div class="grid3">
                  ${this.field('ad_mask_blur', 'Mask blur', html`<input id="ad-ad_mask_blur" type="number" min="0" max="64" .value=${String(f.maskBlur)} @change=${this.num('maskBlur')} />`)}
                  ${this.field('ad_inpaint_only_masked_padding', 'Padding', html`<input id="ad-ad_inpaint_only_masked_padding" type="number" min="0" max="256" .value=${String(f.padding)} @change=${this.num('padding')} />`)}
                  ${this.field('ad_mask_k', 'Top k (0 = all)', html`<input id="ad-ad_mask_k" type="number" min="0" max="300" .value=${String(f.maskK)} @change=${this.num('maskK')} />`)}
                </div>
                <label><input type="checkbox" .checked=${f.onlyMasked} @change=${(e: Event) => this.set({ onlyMasked: (e.target as HTMLInputElement).checked })} /> Inpaint only masked</label>
                ${this.field(
                  'ad_mask_merge_invert',
                  'Masks',
                  html`<select id="ad-ad_mask_merge_invert" @change=${(e: Event) => this.set({ mergeInvert: (e.target as HTMLSelectElement).value as ADetailerFormState['mergeInvert'] })}>
                    ${(['None', 'Merge', 'Merge and Invert'] as const).map((m) => html`<option value=${m} ?selected=${m === f.mergeInvert}>${m}</option>`)}
                  </select>`,
                )}
                <label><input type="checkbox" .checked=${f.useSteps} @change=${(e: Event) => this.set({ useSteps: (e.target as HTMLInputElement).checked })} /> Separate steps</label>
                ${f.useSteps ? this.field('ad_steps', 'Steps', html`<input id="ad-ad_steps" type="number" min="1" max="150" .value=${String(f.steps)} @change=${this.num('steps')} />`) : nothing}
                <label
                  ><input type="checkbox" data-testid="ad-use-noise-multiplier" .checked=${f.useNoiseMultiplier} @change=${(e: Event) => this.set({ useNoiseMultiplier: (e.target as HTMLInputElement).checked })} />
                  Separate noise multiplier</label
                >
                ${f.useNoiseMultiplier
                  ? this.field('ad_noise_multiplier', 'Noise multiplier', html`<input id="ad-ad_noise_multiplier" type="number" min="0.5" max="1.5" step="0.01" .value=${String(f.noiseMultiplier)} @change=${this.num('noiseMultiplier')} />`)
                  : nothing}
                <label title=${RESTORE_FACE_UNAVAILABLE}
                  ><input type="checkbox" data-testid="ad-restore-face" disabled .checked=${false} /> Restore faces after ADetailer</label
                >
                <div class="muted" data-testid="ad-restore-face-reason">Not available: ${RESTORE_FACE_UNAVAILABLE}.</div>
              </div>
            </details>`
        : nothing}
    </fieldset>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-adetailer-section': EaselADetailerSection;
  }
}

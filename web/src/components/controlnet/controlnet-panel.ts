// <easel-controlnet-panel>: the ControlNet tab. Up to three units, each with an on/off switch, a
// control image (camera, files, a gallery image sent here, or the Inpaint tab's canvas), the
// preprocessor (modules Easel cannot run yet are listed, disabled, with the reason), the model
// (only ControlNets of the checkpoint's family), the module's own sliders, pixel perfect, weight,
// guidance start/end, control mode and resize mode. "Preview" shows the preprocessed hint; the
// bottom bar (reachable with a thumb) holds Preview and Generate. The units are kept with the other
// Generate settings (controlnet-store.ts) and sent with every generate while one is on.
//
// Public surface: method `receiveImage(image)` (a GalleryImage sent here from the gallery).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toast, toastError } from '../../app/toasts.js';
import { appEvent } from '../../app/events.js';
import { ServerInfoController } from '../../controllers/server-info-controller.js';
import { fetchControlNetFiles, fetchModules, previewHint, type ControlNetFile, type ModuleInfo, type SliderInfo } from '../../data/controlnet.js';
import type { GalleryImage } from '../../data/protocol.js';
import { connection, jobs, rest } from '../../data/services.js';
import { CONTROL_MODES, RESIZE_MODES, controlUnitsToParams, validateControlUnits, type ControlUnitState } from '../../logic/controlnet-form.js';
import { formToParams, type InitImage } from '../../logic/generation-form.js';
import { formStore } from '../generate/form-store.js';
import { imageFromFile, imageFromGallery } from '../inpaint/image-source.js';
import { controls } from '../shared/styles.js';
import { controlNetStore, currentCanvasImage } from './controlnet-store.js';

/** sd2 and sd2-v share ControlNets; everything else matches by name. */
const familyGroup = (f: string | undefined): string => (f?.startsWith('sd2') ? 'sd2' : (f ?? 'unknown'));

@customElement('easel-controlnet-panel')
export class EaselControlNetPanel extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
        padding-bottom: 88px;
      }
      .units {
        display: grid;
        grid-template-columns: repeat(3, 1fr);
        gap: 6px;
        margin-bottom: 12px;
      }
      .units button {
        min-height: 48px;
      }
      .units button[aria-pressed='true'] {
        outline: 2px solid var(--accent, #6cf);
      }
      .card {
        display: grid;
        gap: 12px;
      }
      .sources {
        display: grid;
        grid-template-columns: repeat(4, 1fr);
        gap: 6px;
      }
      .sources button,
      .sources label {
        min-height: 48px;
        display: flex;
        align-items: center;
        justify-content: center;
        text-align: center;
      }
      .sources input {
        display: none;
      }
      .images {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 8px;
      }
      .images img {
        width: 100%;
        max-height: 40vh;
        object-fit: contain;
        background: #0002;
        border-radius: 8px;
      }
      .grid2 {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 8px;
      }
      .switch {
        display: flex;
        gap: 10px;
        align-items: center;
        min-height: 48px;
        font-size: 1.05em;
      }
      .switch input {
        width: 28px;
        height: 28px;
      }
      .bar {
        position: fixed;
        left: 0;
        right: 0;
        bottom: calc(64px + env(safe-area-inset-bottom, 0px));
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 8px;
        padding: 8px 12px;
        background: var(--surface, #1b1b1f);
        border-top: 1px solid var(--border, #444);
        z-index: 5;
      }
      .bar button {
        min-height: 52px;
        font-size: 1.05em;
      }
      .error-text {
        color: var(--danger, #f66);
      }
      .hint {
        opacity: 0.75;
        font-size: 0.9em;
      }
    `,
  ];

  @state() private units: ControlUnitState[] = controlNetStore.get();
  @state() private current = 0;
  @state() private modules: ModuleInfo[] = [];
  @state() private files: ControlNetFile[] = [];
  @state() private errors: Record<string, string> = {};
  @state() private previewUrl: string | null = null;
  @state() private previewing = false;

  private readonly server = new ServerInfoController(this);
  private readonly onState = (): void => {
    if (connection.state === 'connected') void this.loadLists();
  };
  private readonly onStore = (): void => {
    this.units = controlNetStore.get();
  };

  override connectedCallback(): void {
    super.connectedCallback();
    connection.addEventListener('state', this.onState);
    controlNetStore.addEventListener('change', this.onStore);
    this.onState();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    connection.removeEventListener('state', this.onState);
    controlNetStore.removeEventListener('change', this.onStore);
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
  }

  private async loadLists(): Promise<void> {
    try {
      const [modules, files] = await Promise.all([fetchModules(rest()), fetchControlNetFiles(connection)]);
      this.modules = modules;
      this.files = files;
    } catch (err) {
      toastError(err);
    }
  }

  /** A gallery image as the current unit's control image. */
  async receiveImage(image: GalleryImage): Promise<void> {
    try {
      this.setImage(await imageFromGallery(image));
      toast(`Control image set for unit ${this.current + 1}`, 'success');
    } catch (err) {
      toastError(err);
    }
  }

  private setImage(image: InitImage): void {
    controlNetStore.setImage(this.current, image);
    this.clearPreview();
  }

  private patch(p: Partial<ControlUnitState>): void {
    controlNetStore.set(this.units.map((u, i) => (i === this.current ? { ...u, ...p } : u)));
    if (Object.keys(this.errors).length) this.errors = validateControlUnits(controlNetStore.get(), false);
  }

  private clearPreview(): void {
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = null;
  }

  private async onFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      this.setImage(await imageFromFile(file, file.name));
    } catch (err) {
      toastError(err);
    }
  }

  private unit(): ControlUnitState {
    return this.units[this.current]!;
  }

  private moduleOf(name: string): ModuleInfo | undefined {
    return this.modules.find((m) => m.name === name || m.label === name);
  }

  /** The checkpoint's family, from the shared form's model (or the server's first checkpoint). */
  private checkpointFamily(): string | undefined {
    const info = this.server.info;
    const model = formStore.get().model || info.models[0] || '';
    return info.checkpointFamilies?.[model];
  }

  private async onPreview(): Promise<void> {
    const u = this.unit();
    if (!u.image) {
      this.errors = { ...this.errors, [`controlnet.${this.current}.image`]: 'add a control image first' };
      return;
    }
    this.previewing = true;
    try {
      const blob = await previewHint(connection, {
        module: u.module,
        image: u.image.dataUrl,
        ...(u.processorRes !== null ? { processor_res: u.processorRes } : {}),
        ...(u.thresholdA !== null ? { threshold_a: u.thresholdA } : {}),
        ...(u.thresholdB !== null ? { threshold_b: u.thresholdB } : {}),
      });
      this.clearPreview();
      this.previewUrl = URL.createObjectURL(blob);
    } catch (err) {
      toastError(err);
    } finally {
      this.previewing = false;
    }
  }

  /** Generates with the Generate tab's settings and these units, then shows the Generate tab's progress. */
  private async onGenerate(): Promise<void> {
    const errors = validateControlUnits(this.units, false);
    this.errors = errors;
    const first = Object.entries(errors)[0];
    if (first) {
      toast(`${first[0]}: ${first[1]}`, 'warning');
      return;
    }
    const controlnet = controlUnitsToParams(this.units);
    if (!controlnet) {
      toast('Switch a unit on first', 'warning');
      return;
    }
    try {
      await jobs.generate({ ...formToParams({ ...formStore.get(), initImage: null }), controlnet });
      this.dispatchEvent(appEvent('easel-navigate', { tab: 'generate' }));
    } catch (err) {
      toastError(err);
    }
  }

  private slider(s: SliderInfo, value: number | null, set: (v: number | null) => void, testId: string) {
    const v = value ?? s.value;
    return html`<div class="field">
      <label>${s.name}: <strong>${v}</strong>${value === null ? html` <span class="hint">(default)</span>` : nothing}</label>
      <input type="range" data-testid=${testId} min=${s.min} max=${s.max} step=${s.step} .value=${String(v)} @change=${(e: Event) => set((e.target as HTMLInputElement).valueAsNumber)} />
    </div>`;
  }

  private renderSliders(u: ControlUnitState) {
    const mod = this.moduleOf(u.module);
    if (!mod) return nothing;
    const res = mod.sliders.find((s) => s.name === 'Resolution');
    const thresholds = mod.sliders.filter((s) => s !== res);
    return html`${res && !u.pixelPerfect ? this.slider(res, u.processorRes, (v) => this.patch({ processorRes: v }), 'cn-processor-res') : nothing}
    ${thresholds[0] ? this.slider(thresholds[0], u.thresholdA, (v) => this.patch({ thresholdA: v }), 'cn-threshold-a') : nothing}
    ${thresholds[1] ? this.slider(thresholds[1], u.thresholdB, (v) => this.patch({ thresholdB: v }), 'cn-threshold-b') : nothing}`;
  }

  override render() {
    const u = this.unit();
    const i = this.current;
    const fam = familyGroup(this.checkpointFamily());
    const files = this.files.filter((f) => fam === 'unknown' || f.family === 'unknown' || familyGroup(f.family) === fam);
    const err = (field: string) => this.errors[`controlnet.${i}.${field}`];
    return html`
      <div class="units" role="group" aria-label="ControlNet units">
        ${this.units.map(
          (x, k) => html`<button type="button" data-testid="cn-unit-${k}" aria-pressed=${k === i} @click=${() => ((this.current = k), this.clearPreview())}>
            Unit ${k + 1}${x.enabled ? ' ●' : ''}
          </button>`,
        )}
      </div>
      <div class="card" data-testid="cn-card">
        <label class="switch"><input type="checkbox" data-testid="cn-enable" .checked=${u.enabled} @change=${(e: Event) => this.patch({ enabled: (e.target as HTMLInputElement).checked })} /> Enable unit ${i + 1}</label>
        <div class="sources">
          <label class="button" data-testid="cn-camera">Camera<input type="file" accept="image/*" capture="environment" @change=${(e: Event) => void this.onFile(e)} /></label>
          <label class="button" data-testid="cn-files">Files<input type="file" accept="image/*" data-testid="cn-file-input" @change=${(e: Event) => void this.onFile(e)} /></label>
          <button type="button" @click=${() => this.dispatchEvent(appEvent('easel-navigate', { tab: 'gallery' }))} title="Open the gallery, then use an image's ControlNet button">Gallery</button>
          <button type="button" data-testid="cn-canvas" ?disabled=${!currentCanvasImage()} title=${currentCanvasImage() ? "The Inpaint tab's image" : 'Open an image in the Inpaint tab first'} @click=${() => {
            const c = currentCanvasImage();
            if (c) this.setImage(c);
          }}>Canvas</button>
        </div>
        ${err('image') ? html`<div class="error-text" data-testid="cn-error-image">${err('image')}</div>` : nothing}
        <div class="images">
          ${u.image ? html`<img data-testid="cn-image" alt="Control image" src=${u.image.dataUrl} />` : html`<div class="hint">No control image yet</div>`}
          ${this.previewUrl ? html`<img data-testid="cn-preview" alt="Preprocessed hint" src=${this.previewUrl} />` : nothing}
        </div>
        <div class="field">
          <label for="cn-module">Preprocessor</label>
          <select id="cn-module" data-testid="cn-module" @change=${(e: Event) => (this.patch({ module: (e.target as HTMLSelectElement).value, processorRes: null, thresholdA: null, thresholdB: null }), this.clearPreview())}>
            ${this.modules.length === 0 ? html`<option value=${u.module} selected>${u.module}</option>` : nothing}
            ${this.modules.map(
              (m) => html`<option value=${m.name} ?selected=${m.name === u.module || m.label === u.module} ?disabled=${!m.available} title=${m.available ? m.label : `Not available: ${m.reason ?? 'not supported yet'}`}>${m.label}${m.available ? '' : ` — ${m.reason ?? 'not available'}`}</option>`,
            )}
          </select>
        </div>
        <div class="field">
          <label for="cn-model">Model</label>
          <select id="cn-model" data-testid="cn-model" @change=${(e: Event) => this.patch({ model: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${u.model === ''}>— choose —</option>
            ${u.model && !files.some((f) => f.name === u.model) ? html`<option value=${u.model} selected>${u.model}</option>` : nothing}
            ${files.map((f) => html`<option value=${f.name} ?selected=${f.name === u.model}>${f.name}</option>`)}
          </select>
          ${files.length === 0 ? html`<div class="hint">No ControlNet for this checkpoint's family in models/controlnet</div>` : nothing}
          ${err('model') ? html`<div class="error-text" data-testid="cn-error-model">${err('model')}</div>` : nothing}
        </div>
        <label class="switch"><input type="checkbox" data-testid="cn-pixel-perfect" .checked=${u.pixelPerfect} @change=${(e: Event) => this.patch({ pixelPerfect: (e.target as HTMLInputElement).checked })} /> Pixel perfect</label>
        ${this.renderSliders(u)}
        <div class="field">
          <label>Weight: <strong>${u.weight}</strong></label>
          <input type="range" data-testid="cn-weight" min="0" max="2" step="0.05" .value=${String(u.weight)} @change=${(e: Event) => this.patch({ weight: (e.target as HTMLInputElement).valueAsNumber })} />
        </div>
        <div class="grid2">
          <div class="field">
            <label>Start: <strong>${u.guidanceStart}</strong></label>
            <input type="range" data-testid="cn-start" min="0" max="1" step="0.01" .value=${String(u.guidanceStart)} @change=${(e: Event) => this.patch({ guidanceStart: (e.target as HTMLInputElement).valueAsNumber })} />
          </div>
          <div class="field">
            <label>End: <strong>${u.guidanceEnd}</strong></label>
            <input type="range" data-testid="cn-end" min="0" max="1" step="0.01" .value=${String(u.guidanceEnd)} @change=${(e: Event) => this.patch({ guidanceEnd: (e.target as HTMLInputElement).valueAsNumber })} />
          </div>
        </div>
        ${err('guidance_start') ? html`<div class="error-text">${err('guidance_start')}</div>` : nothing}
        <div class="field">
          <label for="cn-control-mode">Control mode</label>
          <select id="cn-control-mode" data-testid="cn-control-mode" @change=${(e: Event) => this.patch({ controlMode: (e.target as HTMLSelectElement).value as ControlUnitState['controlMode'] })}>
            ${CONTROL_MODES.map((m) => html`<option value=${m} ?selected=${m === u.controlMode}>${m}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="cn-resize-mode">Resize mode</label>
          <select id="cn-resize-mode" data-testid="cn-resize-mode" @change=${(e: Event) => this.patch({ resizeMode: (e.target as HTMLSelectElement).value as ControlUnitState['resizeMode'] })}>
            ${RESIZE_MODES.map((m) => html`<option value=${m} ?selected=${m === u.resizeMode}>${m}</option>`)}
          </select>
        </div>
      </div>
      <div class="bar">
        <button type="button" data-testid="cn-preview-button" ?disabled=${this.previewing} title=${this.previewing ? 'A preview is being made' : 'Show the preprocessed hint'} @click=${() => void this.onPreview()}>${this.previewing ? 'Previewing…' : 'Preview'}</button>
        <button type="button" class="primary" data-testid="cn-generate" @click=${() => void this.onGenerate()}>Generate</button>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-controlnet-panel': EaselControlNetPanel;
  }
}

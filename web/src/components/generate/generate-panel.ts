// <easel-generate-panel>: the Generate tab. Prompt and negative prompt with token counts, model,
// size presets, steps, CFG, sampler and scheduler (lists from the server), seed (random / reuse
// last), batch size and count, LoRA slots, clip skip, an optional img2img source (pick, drop or paste)
// with strength; Generate and Cancel; live preview and progress; the results with their actions.
// The VAE (Automatic, None or a registry file) and the LoRAs' trigger words come from the model
// registry (controllers/server-info-controller.ts).
// The parameters live in form-store.ts (localStorage, shared with the Inpaint tab) so a reload or
// reconnect never loses them; the img2img source stays with this tab.
//
// Public surface: methods `useImage(image)` (switch to img2img from a gallery/result image) and
// `applyParams(image)` ("use these parameters").
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import './lora-slots.js';
import './init-image.js';
import './job-progress.js';
import './result-grid.js';
import './hires-fields.js';
import '../adetailer/adetailer-section.js';
import type { EaselADetailerSection } from '../adetailer/adetailer-section.js';
import './prompt-enhancer.js';
import '../settings/starter-models.js';
import { readImageFile } from './init-image.js';
import { formStore } from './form-store.js';
import { pastedImage } from '../inpaint/image-source.js';
import { toast, toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { SharedFormController } from '../../controllers/shared-form-controller.js';
import { EventController } from '../../controllers/event-controller.js';
import { FileDropController } from '../../controllers/file-drop-controller.js';
import { ServerInfoController } from '../../controllers/server-info-controller.js';
import { FALLBACK_INFO } from '../../data/info.js';
import { EaselClientError } from '../../data/errors.js';
import { fetchFile } from '../../data/http.js';
import type { GalleryImage } from '../../data/protocol.js';
import { currentSettings, jobs } from '../../data/services.js';
import { formToParams, hasErrors, LIMITS, randomSeed, reuseSeed, validateForm, type FieldErrors, type GenerationFormState } from '../../logic/generation-form.js';
import { infotextValue, parseInfotext } from '../../logic/infotext.js';
import { controlUnitsFromInfotext, controlUnitsToParams } from '../../logic/controlnet-form.js';
import { controlNetStore } from '../controlnet/controlnet-store.js';
import { defaultHires, hiresFromInfotext } from '../../logic/hires-form.js';
import { extractLoraTags, validateSlots } from '../../logic/lora-slots.js';
import { CUSTOM_PRESET_ID, findPreset, presetIdFor, SIZE_PRESETS, snapSide, swapSides } from '../../logic/size-presets.js';
import { defaultSizeFor, familyMismatch, presetsFor, sizeOnModelChange } from '../../logic/model-family.js';
import { cfgField, formField, modelField, promptFields, samplerField, schedulerField, seedField, stepsField, vaeField, type ParamFieldContext } from '../shared/form-fields.js';
import { icons } from '../shared/icons.js';
import { controls, tabLayout } from '../shared/styles.js';

/** The shared parameters (also edited by the Inpaint tab) plus this tab's own img2img source. */
function loadForm(): GenerationFormState {
  return { ...formStore.get(), initImage: null };
}

@customElement('easel-generate-panel')
export class EaselGeneratePanel extends LitElement {
  static override styles = [
    controls,
    tabLayout,
    css`
      @media (min-width: 1000px) {
        .first-run {
          margin-bottom: 12px;
        }
        .layout {
          grid-template-columns: minmax(360px, 460px) minmax(0, 1fr);
          align-items: start;
        }
        .output {
          position: sticky;
          top: calc(var(--header-height) + 16px);
        }
      }
      form {
        display: grid;
        gap: 14px;
        min-width: 0;
      }
      .actions .primary {
        font-size: 1.05rem;
      }
      .presets {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .presets button[aria-pressed='true'] {
        border-color: var(--accent);
        background: color-mix(in srgb, var(--accent) 22%, var(--surface-2));
      }
      .seed {
        display: grid;
        grid-template-columns: minmax(0, 1fr) var(--touch) var(--touch);
        gap: 6px;
        align-items: end;
      }
      .grid3 {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: var(--gap);
      }
      .output {
        display: grid;
        gap: 16px;
        min-width: 0;
      }
    `,
  ];

  @state() private form: GenerationFormState = loadForm();
  @state() private errors: FieldErrors = {};

  private readonly conn = new ConnectionController(this);
  private readonly server = new ServerInfoController(this);
  private readonly drop = new FileDropController(this, (file) => void this.onDropFile(file));
  /** The Inpaint tab's edits of the shared parameters (prompt, sampler, ...) show here too. */
  private readonly shared = new SharedFormController(this, (form) => (this.form = { ...this.form, ...form }));
  private readonly jobEvents = new EventController(this, jobs, ['change'], () => this.onJobChange());
  private etaTimer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    jobs.addEventListener('failed', this.onJobFailed);
    window.addEventListener('paste', this.onPaste);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    jobs.removeEventListener('failed', this.onJobFailed);
    window.removeEventListener('paste', this.onPaste);
    window.clearInterval(this.etaTimer);
  }

  private readonly onJobFailed = (e: Event): void => toastError((e as CustomEvent<EaselClientError>).detail);

  /** Switch to img2img with a gallery or result image as the source. */
  async useImage(image: GalleryImage): Promise<void> {
    try {
      const blob = await fetchFile(currentSettings().serverUrl, image.url);
      const init = await readImageFile(blob, `seed ${image.seed}`);
      this.update_({ initImage: init, width: snapSide(init.width), height: snapSide(init.height), sizePreset: presetIdFor(snapSide(init.width), snapSide(init.height)) });
      toast('Image sent to img2img', 'success');
    } catch (err) {
      toastError(err);
    }
  }

  /** "Use these parameters": fill the form from a gallery image (prompt LoRA tags become slots). */
  applyParams(image: GalleryImage): void {
    const parsed = parseInfotext(image.infotext);
    const { prompt, loras } = extractLoraTags(image.prompt || parsed.prompt);
    const sampler = this.server.info.samplers.find((s) => s.id === image.sampler || s.label === image.sampler)?.id ?? image.sampler;
    const clipSkip = Number(infotextValue(parsed, 'Clip skip') ?? 1);
    const hires = hiresFromInfotext(parsed.params, { ...defaultHires(), ...this.form.hires }, {
      samplerId: (l) => this.server.info.samplers.find((s) => s.label === l || s.id === l)?.id,
      schedulerId: (l) => this.server.info.schedulers.find((s) => s.label === l || s.id === l)?.id,
    });
    // A hires-fixed image is bigger than its first pass: the form takes the infotext's `Size`.
    const size = hires.enabled ? /^(\d+)x(\d+)$/.exec(infotextValue(parsed, 'Size') ?? '') : null;
    const [width, height] = size ? [Number(size[1]), Number(size[2])] : [image.width, image.height];
    this.update_({
      prompt,
      negativePrompt: image.negative_prompt || parsed.negativePrompt,
      model: image.model,
      width,
      height,
      sizePreset: presetIdFor(width, height),
      steps: image.steps,
      cfgScale: image.cfg_scale,
      sampler,
      scheduler: image.scheduler || 'automatic',
      seed: image.seed,
      loras,
      clipSkip: Number.isInteger(clipSkip) ? clipSkip : 1,
      hires,
    });
    // ControlNet units of the infotext go back into the ControlNet tab (its images stay as they are).
    const units = controlUnitsFromInfotext(parsed.params, controlNetStore.get(), (title) => title.replace(/ \[[0-9a-f]{8}\]$/, ''));
    if (units) controlNetStore.set(units);
    toast(units ? 'Parameters and ControlNet units loaded' : 'Parameters loaded into the form', 'success');
  }

  private onJobChange(): void {
    const j = jobs.current;
    window.clearInterval(this.etaTimer);
    if (j && j.phase === 'running') this.etaTimer = window.setInterval(() => this.requestUpdate(), 1000);
  }

  /** The registry's family of a checkpoint name ('' = the server's default: its first checkpoint). */
  private familyOf(model: string): string | undefined {
    const fams = this.server.info.checkpointFamilies ?? {};
    return fams[model || (this.server.info.models[0] ?? '')];
  }

  private update_(patch: Partial<GenerationFormState>): void {
    if (patch.model !== undefined && patch.model !== this.form.model) {
      // SDXL wants 1024²: switch the size with the family unless the user chose one.
      const from = this.familyOf(this.form.model);
      const def = defaultSizeFor(from);
      const touched = this.form.width !== def.width || this.form.height !== def.height;
      patch = { ...sizeOnModelChange(from, this.familyOf(patch.model), touched), ...patch };
    }
    this.form = { ...this.form, ...patch };
    const { initImage: _omit, ...shared } = this.form;
    this.shared.update(shared);
    if (hasErrors(this.errors)) this.errors = validateForm(this.form, this.server.info.loras);
  }

  private num(field: keyof GenerationFormState) {
    return (e: Event) => this.update_({ [field]: (e.target as HTMLInputElement).valueAsNumber } as Partial<GenerationFormState>);
  }


  private async onGenerate(e: Event): Promise<void> {
    e.preventDefault();
    const errors = validateForm(this.form, this.server.info.loras);
    this.errors = errors;
    if (hasErrors(errors)) {
      toast(`Fix the marked field${Object.keys(errors).length > 1 ? 's' : ''} first`, 'warning');
      return;
    }
    try {
      if (!this.conn.connected) toast('Not connected: the job will be sent when the connection returns', 'info');
      const adetailer = this.adetailerSection()?.units();
      // The ControlNet tab's units ride along while one is on (and the server can run them).
      const controlnet = this.server.info.capabilities.controlnet ? controlUnitsToParams(controlNetStore.get()) : undefined;
      const params = adetailer ? { ...formToParams(this.form), adetailer } : formToParams(this.form);
      await jobs.generate(controlnet ? { ...params, controlnet } : params);
    } catch (err) {
      // The toast comes from the tracker's `failed` event (also raised when the engine fails later).
      if (err instanceof EaselClientError && err.field) this.errors = { ...this.errors, [err.field]: err.message };
    }
  }

  private adetailerSection(): EaselADetailerSection | null {
    return this.renderRoot.querySelector('easel-adetailer-section');
  }

  /** "Fix faces/hands": an ADetailer job on a gallery image with the section's detector and settings. */
  async fixImage(image: GalleryImage): Promise<void> {
    try {
      await this.updateComplete;
      const units = this.adetailerSection()?.fixUnits() ?? [{ ad_model: 'face_yolov8n.pt' }];
      await jobs.adetailer({ image_id: image.id, units });
      toast('Fixing faces/hands: the detections show in the preview', 'info');
    } catch (err) {
      toastError(err);
    }
  }

  private async onCancel(): Promise<void> {
    try {
      await jobs.cancel();
    } catch (err) {
      toastError(err);
    }
  }

  private async onDropFile(file: File): Promise<void> {
    try {
      const init = await readImageFile(file, file.name);
      this.update_({ initImage: init });
      toast('Image added: img2img mode', 'success');
    } catch (err) {
      toastError(err);
    }
  }

  /** A pasted image becomes the img2img source, as a dropped one does (only while this tab shows). */
  private readonly onPaste = async (e: ClipboardEvent): Promise<void> => {
    const file = this.offsetParent !== null ? pastedImage(e) : null;
    if (!file) return;
    e.preventDefault();
    try {
      this.update_({ initImage: await readImageFile(file, file.name || 'pasted image') });
      toast('Image added: img2img mode', 'success');
    } catch (err) {
      toastError(err);
    }
  };

  private presets() {
    return presetsFor(this.familyOf(this.form.model), SIZE_PRESETS);
  }

  private setPreset(id: string): void {
    const p = this.presets().find((x) => x.id === id) ?? findPreset(id);
    this.update_(p ? { sizePreset: id, width: p.width, height: p.height } : { sizePreset: CUSTOM_PRESET_ID });
  }

  /** Slot errors plus a mark on LoRAs made for another family than the checkpoint (the engine refuses those). */
  private loraErrors(): Map<number, string> {
    const errors = validateSlots(this.form.loras, this.server.info.loras);
    const checkpoint = this.familyOf(this.form.model);
    this.form.loras.forEach((slot, i) => {
      const why = slot.name && !errors.has(i) ? familyMismatch(this.server.info.loraFamilies?.[slot.name], checkpoint) : null;
      if (why) errors.set(i, `"${slot.name}" is ${why}`);
    });
    return errors;
  }

  private field(name: string, label: string, control: unknown) {
    return formField('f-', name, label, control, this.errors[name]);
  }

  /** The parameters the Inpaint tab shows too, with this tab's ids. */
  private params(): ParamFieldContext {
    return { idPrefix: 'f-', testIdPrefix: '', form: this.form, info: this.server.info, errors: this.errors, change: (patch) => this.update_(patch) };
  }

  private renderSize() {
    const f = this.form;
    const custom = f.sizePreset === CUSTOM_PRESET_ID;
    return html`<div>
      <span class="label">Size</span>
      <div class="presets" role="group" aria-label="Size presets">
        ${this.presets().map((p) => html`<button type="button" aria-pressed=${f.sizePreset === p.id} @click=${() => this.setPreset(p.id)}>${p.label}</button>`)}
        <button type="button" aria-pressed=${custom} @click=${() => this.setPreset(CUSTOM_PRESET_ID)}>Custom</button>
        <button type="button" class="icon" aria-label="Swap width and height" title="Swap width and height" @click=${() => this.update_({ ...swapSides(f), sizePreset: this.presets().find((q) => q.width === f.height && q.height === f.width)?.id ?? presetIdFor(f.height, f.width) })}>⇄</button>
      </div>
      ${custom
        ? html`<div class="grid2" style="margin-top:8px">
            ${this.field(
              'width',
              'Width',
              html`<input id="f-width" type="number" step="8" min=${LIMITS.minSide} max=${LIMITS.maxSide} .value=${String(f.width)} @change=${(e: Event) => this.update_({ width: snapSide((e.target as HTMLInputElement).valueAsNumber) })} />`,
            )}
            ${this.field(
              'height',
              'Height',
              html`<input id="f-height" type="number" step="8" min=${LIMITS.minSide} max=${LIMITS.maxSide} .value=${String(f.height)} @change=${(e: Event) => this.update_({ height: snapSide((e.target as HTMLInputElement).valueAsNumber) })} />`,
            )}
          </div>`
        : html`<div class="muted" style="margin-top:6px;font-size:.85rem">${f.width}×${f.height}</div>`}
    </div>`;
  }

  private renderForm() {
    const f = this.form;
    const busy = jobs.busy;
    const p = this.params();
    return html`<form class="card" @submit=${this.onGenerate} novalidate>
      ${promptFields(
        p,
        { prompt: 'prompt', negative: 'negative_prompt' },
        html`<easel-prompt-enhancer .prompt=${f.prompt} @prompt-use=${(e: CustomEvent<string>) => this.update_({ prompt: e.detail })}></easel-prompt-enhancer>`,
      )}
      <div class="actions">
        <button type="submit" class="primary" data-testid="generate">${icons.generate} ${f.initImage ? 'Generate (img2img)' : 'Generate'}</button>
        <button type="button" class="danger" ?disabled=${!busy} title=${busy ? '' : 'Nothing is running'} @click=${this.onCancel} data-testid="cancel">Cancel</button>
      </div>
      <easel-init-image
        .image=${f.initImage}
        .strength=${f.strength}
        .error=${this.errors.strength}
        @image-change=${(e: CustomEvent<GenerationFormState['initImage']>) => this.update_({ initImage: e.detail })}
        @image-error=${(e: CustomEvent<string>) => toast(e.detail, 'error')}
        @strength-change=${(e: CustomEvent<number>) => this.update_({ strength: e.detail })}
      ></easel-init-image>
      <div class="grid2">${modelField(p)} ${vaeField(p)}</div>
      ${this.renderSize()}
      <div class="grid2">${samplerField(p)} ${schedulerField(p)} ${stepsField(p)} ${cfgField(p)}</div>
      <div class="seed">
        ${seedField(p)}
        <button type="button" class="icon" aria-label="Random seed" title="Random seed" @click=${() => this.update_(randomSeed(this.form))}>${icons.dice}</button>
        <button type="button" class="icon" aria-label="Reuse last seed" title=${jobs.lastSeed === null ? 'No image yet: generate one first' : 'Reuse last seed'} ?disabled=${jobs.lastSeed === null} @click=${() => this.update_(reuseSeed(this.form, jobs.lastSeed))}>
          ${icons.recycle}
        </button>
      </div>
      <div class="grid3">
        ${this.field('batch_size', 'Batch size', html`<input id="f-batch_size" type="number" min="1" max=${LIMITS.maxBatchSize} .value=${String(f.batchSize)} @change=${this.num('batchSize')} />`)}
        ${this.field('n_iter', 'Batch count', html`<input id="f-n_iter" type="number" min="1" max=${LIMITS.maxIter} .value=${String(f.batchCount)} @change=${this.num('batchCount')} />`)}
        ${this.field('clip_skip', 'Clip skip', html`<input id="f-clip_skip" type="number" min="1" max="12" .value=${String(f.clipSkip)} @change=${this.num('clipSkip')} />`)}
      </div>
      ${f.initImage
        ? nothing
        : html`<easel-hires-fields
            .hires=${f.hires}
            .samplers=${this.server.info.samplers}
            .schedulers=${this.server.info.schedulers}
            .upscalers=${this.server.info.upscalers}
            .errors=${this.errors}
            .width=${f.width}
            .height=${f.height}
            .available=${this.server.info.engineCanHires !== false}
            @hires-change=${(e: CustomEvent<Partial<GenerationFormState['hires']>>) => this.update_({ hires: { ...f.hires, ...e.detail } })}
          ></easel-hires-fields>`}
      <easel-lora-slots
        .slots=${f.loras}
        .known=${this.server.info.loras}
        .errors=${this.loraErrors()}
        @slots-change=${(e: CustomEvent<GenerationFormState['loras']>) => this.update_({ loras: e.detail })}
        @trigger-word=${(e: CustomEvent<string>) => this.update_({ prompt: f.prompt ? `${f.prompt}, ${e.detail}` : e.detail })}
      ></easel-lora-slots>
      <easel-adetailer-section></easel-adetailer-section>
    </form>`;
  }

  override render() {
    void this.jobEvents;
    const job = jobs.current;
    // First run: the server answered and has no checkpoint; offer the starter models in place.
    const noCheckpoint = this.conn.connected && this.server.info !== FALLBACK_INFO && this.server.info.models.length === 0;
    return html`${noCheckpoint ? html`<div class="card first-run"><easel-starter-models firstRun></easel-starter-models></div>` : nothing}
      <div class="layout">
        ${this.renderForm()}
        <div class="output">
          <div class="card"><easel-job-progress .job=${job} .eta=${jobs.etaSeconds()}></easel-job-progress></div>
          ${job && job.images.length > 0 ? html`<div class="card"><h2>Results</h2><easel-result-grid .images=${job.images}></easel-result-grid></div>` : nothing}
        </div>
      </div>
      ${this.drop.dragging ? html`<div class="drop-hint">Drop the image for img2img</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-generate-panel': EaselGeneratePanel;
  }
}

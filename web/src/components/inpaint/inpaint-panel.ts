// <easel-inpaint-panel>: the Inpaint tab. Loads a source image (pick, drop, paste, "send to
// inpaint" from a result or the gallery, or the last result), hosts the mask editor and its
// toolbar with the keyboard shortcuts, the parameters (shared with Generate plus the inpaint
// ones), Generate / Cancel, the job's progress, and after the job a before/after comparison with
// "continue editing", which makes the result the new source and keeps the mask (same size: the
// masked area usually needs another pass; Clear starts over). With no mask painted it runs
// img2img on the whole image.
//
// Public surface: method `receiveImage(image)` (a GalleryImage sent here), property-free.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../generate/job-progress.js';
import './compare-slider.js';
import './inpaint-form.js';
import './mask-editor.js';
import './mask-toolbar.js';
import { toast, toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import { SharedFormController } from '../../controllers/shared-form-controller.js';
import { EventController } from '../../controllers/event-controller.js';
import { FileDropController } from '../../controllers/file-drop-controller.js';
import { ServerInfoController } from '../../controllers/server-info-controller.js';
import { EaselClientError } from '../../data/errors.js';
import { fileUrl } from '../../data/http.js';
import type { GalleryImage } from '../../data/protocol.js';
import { currentSettings, jobs } from '../../data/services.js';
import { hasErrors, validateForm, type FieldErrors, type InitImage } from '../../logic/generation-form.js';
import { defaultInpaintSettings, inpaintParams, processingSize, validateInpaint, type InpaintSettings } from '../../logic/inpaint-params.js';
import { stepBrushSize } from '../../logic/stroke-raster.js';
import { formStore, type SharedForm } from '../generate/form-store.js';
import { icons } from '../shared/icons.js';
import { controls, tabLayout } from '../shared/styles.js';
import { decodeImage, imageFromFile, imageFromGallery, pastedImage } from './image-source.js';
import type { EaselMaskEditor } from './mask-editor.js';
import { setCanvasImage } from '../controlnet/controlnet-store.js';
import { DEFAULT_EDITOR_SETTINGS, type EditorCommand, type EditorSettings } from './mask-toolbar.js';

const SETTINGS_KEY = 'easel.inpaint';
/** The toolbar's + and − buttons: about a third of a doubling per press. */
const ZOOM_STEP = 1.25;

interface Saved {
  editor: EditorSettings;
  inpaint: InpaintSettings;
}

function loadSaved(): Saved {
  try {
    const raw = localStorage.getItem(SETTINGS_KEY);
    if (raw) {
      const s = JSON.parse(raw) as Partial<Saved>;
      return { editor: { ...DEFAULT_EDITOR_SETTINGS, ...s.editor }, inpaint: { ...defaultInpaintSettings(), ...s.inpaint } };
    }
  } catch {
    // Corrupt settings are not worth an error: start from the defaults.
  }
  return { editor: DEFAULT_EDITOR_SETTINGS, inpaint: defaultInpaintSettings() };
}

function isTextTarget(e: Event): boolean {
  const t = e.composedPath()[0];
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

/** Space on a focused button presses it: it must not become "hold to pan" there. */
function isButtonTarget(e: Event): boolean {
  const t = e.composedPath()[0];
  return t instanceof HTMLElement && (t.tagName === 'BUTTON' || t.getAttribute('role') === 'button');
}

@customElement('easel-inpaint-panel')
export class EaselInpaintPanel extends LitElement {
  static override styles = [
    controls,
    tabLayout,
    css`
      @media (min-width: 1000px) {
        .layout {
          grid-template-columns: minmax(0, 1fr) minmax(320px, 400px);
          align-items: start;
        }
      }
      .editor {
        display: grid;
        gap: 10px;
        min-width: 0;
      }
      .source {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
      }
      .source .meta {
        flex: 1 1 100%;
        font-size: 0.85rem;
      }
      @media (min-width: 1000px) {
        .source .meta {
          flex-basis: 160px;
        }
      }
      input[type='file'] {
        display: none;
      }
      .empty {
        display: grid;
        place-items: center;
        gap: 12px;
        text-align: center;
        min-height: 240px;
        border: 2px dashed var(--border);
        border-radius: var(--radius);
        padding: 16px;
      }
      .side {
        display: grid;
        gap: 14px;
        min-width: 0;
      }
      [hidden] {
        display: none !important;
      }
    `,
  ];

  @state() private source: InitImage | null = null;
  @state() private shared: SharedForm = formStore.get();
  @state() private editorSettings: EditorSettings;
  @state() private settings: InpaintSettings;
  @state() private errors: FieldErrors = {};
  @state() private history = { canUndo: false, canRedo: false, masked: 0 };
  @state() private zoom = 1;
  @state() private spaceHeld = false;
  /** The job this tab submitted (the tracker also follows Generate's jobs). */
  @state() private ownJobId: string | null = null;
  @state() private submitting = false;
  /** The source as it was when the job was sent: the "before" of the comparison. */
  @state() private beforeUrl: string | null = null;

  @query('easel-mask-editor') private editor!: EaselMaskEditor;

  private readonly conn = new ConnectionController(this);
  private readonly server = new ServerInfoController(this);
  private readonly drop = new FileDropController(this, (file) => void this.loadFile(file, file.name));
  private readonly sharedForm = new SharedFormController(this, (form) => (this.shared = form));
  private readonly jobEvents = new EventController(this, jobs, ['change']);

  constructor() {
    super();
    const saved = loadSaved();
    this.editorSettings = saved.editor;
    this.settings = saved.inpaint;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKeyDown);
    window.addEventListener('keyup', this.onKeyUp);
    window.addEventListener('paste', this.onPaste);
    window.addEventListener('blur', this.onBlur);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.onKeyDown);
    window.removeEventListener('keyup', this.onKeyUp);
    window.removeEventListener('paste', this.onPaste);
    window.removeEventListener('blur', this.onBlur);
  }

  /** "Send to inpaint" from a result or the gallery. */
  async receiveImage(image: GalleryImage): Promise<void> {
    try {
      await this.load(await imageFromGallery(image));
      toast('Image sent to inpaint', 'success');
    } catch (err) {
      toastError(err);
    }
  }

  /** Shows a new source; the mask survives only for "continue editing" on a same-size result. */
  private async load(image: InitImage, keepMask = false): Promise<void> {
    const img = await decodeImage(image.dataUrl);
    this.source = image;
    setCanvasImage(image);
    await this.updateComplete;
    await this.editor.updateComplete;
    this.editor.setImage(img, image.width, image.height, keepMask);
    this.syncEditorState();
  }

  private async loadFile(file: Blob, name: string): Promise<void> {
    try {
      await this.load(await imageFromFile(file, name));
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'error');
    }
  }

  private lastResult(): GalleryImage | null {
    const j = jobs.current;
    return j && j.phase === 'completed' ? (j.images[0] ?? null) : null;
  }

  private async useLastResult(keepMask: boolean): Promise<void> {
    const img = this.lastResult();
    if (!img) return;
    try {
      await this.load(await imageFromGallery(img), keepMask);
      this.ownJobId = null;
      this.beforeUrl = null;
    } catch (err) {
      toastError(err);
    }
  }

  private visible(): boolean {
    return this.isConnected && this.offsetParent !== null;
  }

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (!this.visible() || !this.source || isTextTarget(e)) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && key === 'z') this.command(e.shiftKey ? 'redo' : 'undo');
    else if (mod && key === 'y') this.command('redo');
    else if (!mod && e.key === '[') this.setEditor({ size: stepBrushSize(this.editorSettings.size, -1) });
    else if (!mod && e.key === ']') this.setEditor({ size: stepBrushSize(this.editorSettings.size, 1) });
    else if (!mod && e.key === ' ' && !isButtonTarget(e)) this.spaceHeld = true;
    else return;
    // Space would scroll the page and ctrl+z would reach the browser's own undo.
    e.preventDefault();
  };

  private readonly onKeyUp = (e: KeyboardEvent): void => {
    if (e.key === ' ') this.spaceHeld = false;
  };

  private readonly onBlur = (): void => {
    this.spaceHeld = false;
  };

  private readonly onPaste = (e: ClipboardEvent): void => {
    if (!this.visible()) return;
    const file = pastedImage(e);
    if (!file) return;
    e.preventDefault();
    void this.loadFile(file, file.name || 'pasted image');
  };

  private async onPick(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) await this.loadFile(file, file.name);
  }

  private setEditor(patch: Partial<EditorSettings>): void {
    this.editorSettings = { ...this.editorSettings, ...patch };
    this.save();
  }

  private setSettings(patch: Partial<InpaintSettings>): void {
    this.settings = { ...this.settings, ...patch };
    this.save();
    if (hasErrors(this.errors)) this.errors = this.validate();
  }

  private setShared(patch: Partial<SharedForm>): void {
    this.sharedForm.update(patch);
    this.shared = this.sharedForm.get();
    if (hasErrors(this.errors)) this.errors = this.validate();
  }

  private save(): void {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify({ editor: this.editorSettings, inpaint: this.settings }));
    } catch {
      // Storage full or disabled: the settings just are not remembered.
    }
  }

  private command(c: EditorCommand): void {
    const ed = this.editor;
    if (!ed) return;
    if (c === 'undo') ed.undo();
    else if (c === 'redo') ed.redo();
    else if (c === 'clear') ed.clear();
    else if (c === 'invert') ed.invert();
    else if (c === 'fit') ed.fit();
    else ed.zoomBy(c === 'zoom-in' ? ZOOM_STEP : 1 / ZOOM_STEP);
  }

  private syncEditorState(): void {
    const ed = this.editor;
    if (!ed) return;
    this.history = { canUndo: ed.canUndo, canRedo: ed.canRedo, masked: ed.maskedPixels };
    this.zoom = ed.view.zoom;
  }

  private validate(): FieldErrors {
    // Only the shared fields this tab sends are checked; size comes from the inpaint settings.
    const size = processingSize(this.settings, this.source?.width ?? 0, this.source?.height ?? 0);
    const shared = validateForm({ ...this.shared, ...size, batchSize: 1, batchCount: 1, initImage: null }, this.server.info.loras);
    return { ...shared, ...validateInpaint(this.settings) };
  }

  private async onGenerate(): Promise<void> {
    const source = this.source;
    if (!source) return;
    const errors = this.validate();
    this.errors = errors;
    if (hasErrors(errors)) {
      toast(`Fix the marked field${Object.keys(errors).length > 1 ? 's' : ''} first`, 'warning');
      return;
    }
    try {
      const mask = this.editor.maskedPixels > 0 ? await this.editor.exportMask() : null;
      const params = inpaintParams(this.shared, this.settings, { image: source.dataUrl, width: source.width, height: source.height, mask });
      if (!this.conn.connected) toast('Not connected: the job will be sent when the connection returns', 'info');
      this.beforeUrl = source.dataUrl;
      this.ownJobId = null;
      this.submitting = true;
      await jobs.generate(params);
      this.ownJobId = jobs.current?.jobId ?? null;
    } catch (err) {
      if (err instanceof EaselClientError && err.field) this.errors = { ...this.errors, [err.field]: err.message };
      else if (!(err instanceof EaselClientError)) toastError(err);
    } finally {
      this.submitting = false;
    }
  }

  private async onCancel(): Promise<void> {
    try {
      await jobs.cancel();
    } catch (err) {
      toastError(err);
    }
  }

  /** The tracker's job when it is ours (being sent, or with our id). */
  private ownJob() {
    const j = jobs.current;
    if (!j) return null;
    // While sending, the tracker's job is the one just submitted (its id may arrive before the ack).
    if (this.submitting) return j;
    return this.ownJobId !== null && j.jobId === this.ownJobId ? j : null;
  }

  private renderSource() {
    const picker = (label: string) => html`<label class="button" role="button" tabindex="0"
      >${icons.image} ${label}<input type="file" accept="image/*" data-testid="inpaint-file" @change=${this.onPick}
    /></label>`;
    const last = this.lastResult();
    const lastButton = html`<button ?disabled=${!last} title=${last ? '' : 'No result yet: generate first'} data-testid="use-last-result" @click=${() => this.useLastResult(false)}>Last result</button>`;
    if (!this.source) {
      return html`<div class="empty" data-testid="inpaint-empty">
        <div>${picker('Pick an image')} ${lastButton}</div>
        <div class="muted">or drop or paste an image here, or use "Inpaint" on a result or in the gallery</div>
      </div>`;
    }
    return html`<div class="source">
      <span class="meta muted" data-testid="inpaint-source">${this.source.name} · ${this.source.width}×${this.source.height} · ${this.history.masked > 0 ? `${this.history.masked} px masked` : 'no mask: img2img'}</span>
      ${picker('Replace')} ${lastButton}
    </div>`;
  }

  private renderResult() {
    const job = this.ownJob();
    if (!job) return nothing;
    const result = job.phase === 'completed' ? job.images[0] : undefined;
    return html`<div class="card" data-testid="inpaint-job">
      ${result && this.beforeUrl
        ? html`<h2>Before / after</h2>
            <easel-compare-slider .beforeSrc=${this.beforeUrl} .afterSrc=${fileUrl(currentSettings().serverUrl, result.url)}></easel-compare-slider>
            <div class="actions" style="margin-top:8px">
              <button class="primary" data-testid="continue-editing" @click=${() => this.useLastResult(true)}>${icons.inpaint} Continue editing</button>
            </div>`
        : html`<easel-job-progress .job=${job} .eta=${jobs.etaSeconds()}></easel-job-progress>`}
    </div>`;
  }

  override render() {
    void this.jobEvents;
    const s = this.editorSettings;
    const busy = jobs.busy;
    return html`<div class="layout">
        <div class="editor card">
          ${this.renderSource()}
          <div ?hidden=${!this.source}>
            <easel-mask-toolbar
              .settings=${s}
              .canUndo=${this.history.canUndo}
              .canRedo=${this.history.canRedo}
              .zoom=${this.zoom}
              @settings-change=${(e: CustomEvent<Partial<EditorSettings>>) => this.setEditor(e.detail)}
              @editor-command=${(e: CustomEvent<EditorCommand>) => this.command(e.detail)}
            ></easel-mask-toolbar>
          </div>
          <easel-mask-editor
            ?hidden=${!this.source}
            .tool=${s.tool}
            .size=${s.size}
            .softness=${s.softness}
            .overlayColor=${s.overlayColor}
            .overlayOpacity=${s.overlayOpacity}
            .viewMode=${s.viewMode}
            .spaceHeld=${this.spaceHeld}
            @mask-change=${() => this.syncEditorState()}
            @view-change=${() => this.syncEditorState()}
          ></easel-mask-editor>
        </div>
        <div class="side">
          <div class="card">
            <easel-inpaint-form
              .shared=${this.shared}
              .settings=${this.settings}
              .info=${this.server.info}
              .errors=${this.errors}
              .imageWidth=${this.source?.width ?? 0}
              .imageHeight=${this.source?.height ?? 0}
              @shared-change=${(e: CustomEvent<Partial<SharedForm>>) => this.setShared(e.detail)}
              @settings-change=${(e: CustomEvent<Partial<InpaintSettings>>) => this.setSettings(e.detail)}
            ></easel-inpaint-form>
            <div class="actions" style="margin-top:12px">
              <button class="primary" data-testid="inpaint-generate"
                ?disabled=${!this.source || this.submitting}
                title=${!this.source ? 'Pick an image to inpaint first' : this.submitting ? 'Sending…' : ''}
                @click=${this.onGenerate}>
                ${icons.generate} ${this.history.masked > 0 ? 'Inpaint' : 'Generate (img2img)'}
              </button>
              <button class="danger" ?disabled=${!busy} title=${busy ? '' : 'Nothing is running'} @click=${this.onCancel}>Cancel</button>
            </div>
          </div>
          ${this.renderResult()}
        </div>
      </div>
      ${this.drop.dragging ? html`<div class="drop-hint">Drop the image to inpaint it</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-inpaint-panel': EaselInpaintPanel;
  }
}

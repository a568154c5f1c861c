// <easel-image-viewer>: a full-screen view of one gallery image with its metadata (the parsed
// A1111 infotext) and actions: use these parameters, send to img2img / inpaint, favorite,
// download, copy parameters, delete, upscale. Works offline for favorites (their full image is kept).
//
// Public surface: property `image` (GalleryImage | null; null closes it); events `close`,
// `favorite` (CustomEvent<GalleryImage>), `delete` (CustomEvent<GalleryImage>); raises
// `easel-use-params` and `easel-send-image`.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { copyText, downloadImage } from '../../app/download.js';
import { appEvent } from '../../app/events.js';
import { ServerInfoController } from '../../controllers/server-info-controller.js';
import { toast, toastError } from '../../app/toasts.js';
import type { GalleryImage } from '../../data/protocol.js';
import { gallery } from '../../data/services.js';
import { parseInfotext } from '../../logic/infotext.js';
import { icons } from '../shared/icons.js';
import '../upscale/upscale-dialog.js';
import { controls } from '../shared/styles.js';

@customElement('easel-image-viewer')
export class EaselImageViewer extends LitElement {
  static override styles = [
    controls,
    css`
      .backdrop {
        position: fixed;
        inset: 0;
        z-index: 45;
        background: rgb(0 0 0 / 0.75);
        display: flex;
        justify-content: center;
        align-items: stretch;
      }
      .panel {
        background: var(--surface);
        width: min(1200px, 100vw);
        max-height: 100dvh;
        overflow-y: auto;
        overflow-x: hidden;
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        align-content: start;
      }
      @media (min-width: 900px) {
        .backdrop {
          padding: 24px;
        }
        .panel {
          grid-template-columns: minmax(0, 3fr) minmax(300px, 2fr);
          border-radius: 16px;
        }
      }
      .image {
        background: var(--bg);
        display: grid;
        place-items: center;
        min-height: 200px;
      }
      .image img {
        max-width: 100%;
        max-height: 80dvh;
        display: block;
      }
      .meta {
        padding: 14px;
        display: grid;
        gap: 12px;
        align-content: start;
        min-width: 0;
      }
      .top {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 8px;
      }
      .prompt {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        font-size: 0.95rem;
        line-height: 1.4;
        margin: 0;
      }
      dl {
        display: grid;
        grid-template-columns: auto minmax(0, 1fr);
        gap: 4px 12px;
        margin: 0;
        font-size: 0.85rem;
      }
      dt {
        color: var(--text-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .fav {
        color: var(--warn);
      }
    `,
  ];

  @property({ attribute: false }) image: GalleryImage | null = null;
  // The ControlNet button is offered only when the engine can use it (capability flag).
  private readonly server = new ServerInfoController(this);
  @state() private src: string | null = null;
  @state() private upscaling: GalleryImage | null = null;
  private srcFor: string | null = null;

  override willUpdate(changed: Map<string, unknown>): void {
    if (!changed.has('image') || !this.image || this.image.id === this.srcFor) return;
    const img = this.image;
    this.srcFor = img.id;
    this.src = null;
    void gallery.fullImageUrl(img).then((url) => {
      if (this.srcFor === img.id) this.src = url;
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.onKey);
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Escape' && this.image && !this.upscaling) this.close();
  };

  private close(): void {
    this.srcFor = null;
    this.dispatchEvent(new Event('close'));
  }

  override render() {
    const img = this.image;
    if (!img) return nothing;
    const parsed = parseInfotext(img.infotext);
    return html`<div class="backdrop" @click=${(e: Event) => e.target === e.currentTarget && this.close()}>
      <div class="panel" role="dialog" aria-modal="true" aria-label="Image details" data-testid="viewer">
        <div class="image">${this.src ? html`<img src=${this.src} alt=${img.prompt} />` : html`<span class="muted">Loading…</span>`}</div>
        <div class="meta">
          <div class="top">
            <span class="muted">${new Date(img.created_at).toLocaleString()} · ${img.width}×${img.height}</span>
            <button class="icon" aria-label="Close" @click=${() => this.close()}>${icons.close}</button>
          </div>
          <div class="actions">
            <button class="primary" data-testid="use-params" @click=${() => (this.dispatchEvent(appEvent('easel-use-params', { image: img })), this.close())}>Use these parameters</button>
            <button @click=${() => (this.dispatchEvent(appEvent('easel-send-image', { image: img, target: 'img2img' })), this.close())}>${icons.image} img2img</button>
            <button @click=${() => (this.dispatchEvent(appEvent('easel-send-image', { image: img, target: 'inpaint' })), this.close())}>${icons.inpaint} Inpaint</button>
            ${this.server.info.capabilities.controlnet
              ? html`<button data-testid="viewer-controlnet" @click=${() => (this.dispatchEvent(appEvent('easel-send-image', { image: img, target: 'controlnet' })), this.close())}>${icons.controlnet} ControlNet</button>`
              : nothing}
            <button data-testid="viewer-upscale" @click=${() => (this.upscaling = img)}>${icons.image} Upscale</button>
            <button data-testid="fix-faces" @click=${() => (this.dispatchEvent(appEvent('easel-fix-image', { image: img })), this.close())}>Fix faces/hands</button>
          </div>
          <div class="actions">
            <button
              class=${img.favorite ? 'fav' : ''}
              aria-pressed=${img.favorite}
              data-testid="viewer-favorite"
              @click=${() => this.dispatchEvent(new CustomEvent('favorite', { detail: img }))}
            >
              ${img.favorite ? icons.starFilled : icons.star} ${img.favorite ? 'Favorite' : 'Add to favorites'}
            </button>
            <button aria-label="Download" @click=${() => downloadImage(img).catch(toastError)}>${icons.download}</button>
            <button aria-label="Copy parameters" @click=${() => copyText(img.infotext).then(() => toast('Parameters copied', 'success'), toastError)}>${icons.copy}</button>
            <button class="danger" aria-label="Delete" data-testid="viewer-delete" @click=${() => this.dispatchEvent(new CustomEvent('delete', { detail: img }))}>${icons.trash}</button>
          </div>
          <div>
            <span class="label">Prompt</span>
            <p class="prompt" data-testid="viewer-prompt">${parsed.prompt || img.prompt}</p>
          </div>
          ${parsed.negativePrompt || img.negative_prompt
            ? html`<div><span class="label">Negative prompt</span><p class="prompt">${parsed.negativePrompt || img.negative_prompt}</p></div>`
            : nothing}
          <dl data-testid="viewer-params">
            ${parsed.params.length > 0
              ? parsed.params.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)
              : html`<dt>Steps</dt><dd>${img.steps}</dd><dt>Sampler</dt><dd>${img.sampler}</dd><dt>CFG scale</dt><dd>${img.cfg_scale}</dd><dt>Seed</dt><dd>${img.seed}</dd><dt>Model</dt><dd>${img.model}</dd>`}
          </dl>
        </div>
      </div>
      <easel-upscale-dialog .image=${this.upscaling} @close=${() => (this.upscaling = null)}></easel-upscale-dialog>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-image-viewer': EaselImageViewer;
  }
}

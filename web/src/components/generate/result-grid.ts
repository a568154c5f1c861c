// <easel-result-grid>: the images of the last finished job with their actions: send to img2img,
// send to inpaint, upscale, favorite, download, copy parameters (the A1111 infotext).
//
// Public surface: property `images` (GalleryImage[]); raises `easel-send-image` and updates
// favorites through data/gallery.
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { copyText, downloadImage } from '../../app/download.js';
import { appEvent } from '../../app/events.js';
import { toast, toastError } from '../../app/toasts.js';
import { fileUrl } from '../../data/http.js';
import type { GalleryImage } from '../../data/protocol.js';
import { currentSettings, gallery } from '../../data/services.js';
import { icons } from '../shared/icons.js';
import '../upscale/upscale-dialog.js';
import { controls } from '../shared/styles.js';

@customElement('easel-result-grid')
export class EaselResultGrid extends LitElement {
  static override styles = [
    controls,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr));
        gap: var(--gap);
      }
      figure {
        margin: 0;
        background: var(--surface-2);
        border-radius: var(--radius);
        overflow: hidden;
      }
      img {
        display: block;
        width: 100%;
        height: auto;
        aspect-ratio: var(--ratio);
        object-fit: contain;
        background: var(--bg);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        padding: 8px;
      }
      .actions button {
        flex: 1 1 auto;
        font-size: 0.85rem;
      }
      .fav {
        color: var(--warn);
      }
    `,
  ];

  @property({ attribute: false }) images: GalleryImage[] = [];
  @state() private upscaling: GalleryImage | null = null;

  private async toggleFavorite(img: GalleryImage): Promise<void> {
    const favorite = !img.favorite;
    this.images = this.images.map((i) => (i.id === img.id ? { ...i, favorite } : i));
    try {
      await gallery.setFavorite(img, favorite);
    } catch (err) {
      toastError(err);
    }
  }

  override render() {
    const server = currentSettings().serverUrl;
    return html`<div class="grid" data-testid="results">
      ${this.images.map(
        (img) => html`<figure>
          <img src=${fileUrl(server, img.url)} alt=${img.prompt} style="--ratio:${img.width}/${img.height}" loading="lazy" />
          <div class="actions">
            <button @click=${() => this.dispatchEvent(appEvent('easel-send-image', { image: img, target: 'img2img' }))}>${icons.image} img2img</button>
            <button @click=${() => this.dispatchEvent(appEvent('easel-send-image', { image: img, target: 'inpaint' }))}>${icons.inpaint} Inpaint</button>
            <button data-testid="result-upscale" @click=${() => (this.upscaling = img)}>Upscale</button>
            <button class=${img.favorite ? 'fav' : ''} aria-pressed=${img.favorite} aria-label="Favorite" @click=${() => this.toggleFavorite(img)}>
              ${img.favorite ? icons.starFilled : icons.star}
            </button>
            <button aria-label="Download" @click=${() => downloadImage(img).catch(toastError)}>${icons.download}</button>
            <button
              aria-label="Copy parameters"
              @click=${() =>
                copyText(img.infotext).then(
                  () => toast('Parameters copied', 'success'),
                  (err: unknown) => toastError(err),
                )}
            >
              ${icons.copy}
            </button>
          </div>
        </figure>`,
      )}
    </div>
    <easel-upscale-dialog .image=${this.upscaling} @close=${() => (this.upscaling = null)}></easel-upscale-dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-result-grid': EaselResultGrid;
  }
}

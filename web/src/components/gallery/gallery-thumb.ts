// <easel-gallery-thumb>: one thumbnail, loaded through data/gallery (IndexedDB copy first, then the
// signed URL), so the gallery shows thumbnails offline. Shows the image's size while loading.
//
// Public surface: property `image` (GalleryImage).
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { GalleryImage } from '../../data/protocol.js';
import { gallery } from '../../data/services.js';

@customElement('easel-gallery-thumb')
export class EaselGalleryThumb extends LitElement {
  static override styles = css`
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }
    :host {
      display: block;
      width: 100%;
      height: 100%;
      background: var(--surface-2);
    }
    img {
      display: block;
      width: 100%;
      height: 100%;
      object-fit: cover;
    }
    .ph {
      width: 100%;
      height: 100%;
      display: grid;
      place-items: center;
      color: var(--text-muted);
      font-size: 0.75rem;
    }
  `;

  @property({ attribute: false }) image: GalleryImage | null = null;
  @state() private src: string | null = null;
  private loadingFor: string | null = null;

  override willUpdate(changed: Map<string, unknown>): void {
    if (!changed.has('image')) return;
    const img = this.image;
    if (!img || img.id === this.loadingFor) return;
    this.loadingFor = img.id;
    this.src = null;
    void gallery.thumbnail(img).then((url) => {
      if (this.loadingFor === img.id) this.src = url;
    });
  }

  override render() {
    const img = this.image;
    if (!img) return html``;
    return this.src
      ? html`<img src=${this.src} alt=${img.prompt.slice(0, 120)} draggable="false" />`
      : html`<div class="ph">${img.width}×${img.height}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-gallery-thumb': EaselGalleryThumb;
  }
}

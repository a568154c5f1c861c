// <easel-feature-placeholder feature="inpaint|controlnet">: what the Inpaint and ControlNet tabs
// will hold, until their issues land. The Inpaint tab already receives "send to inpaint" images so
// that path is wired end to end.
//
// Public surface: attribute `feature`; method `receiveImage(image)`.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { GalleryImage } from '../../data/protocol.js';
import { fileUrl } from '../../data/http.js';
import { currentSettings } from '../../data/services.js';
import { controls } from '../shared/styles.js';

const FEATURES = {
  inpaint: {
    title: 'Inpaint',
    lines: [
      'A canvas editor for masks: brush, eraser, size, undo and redo, zoom and pan, with mouse, touch and pen.',
      'Mask blur, "inpaint only masked" with padding, and the same prompt, sampler and LoRA controls as Generate.',
      'Send any result or gallery image here to start from it.',
    ],
  },
  controlnet: {
    title: 'ControlNet',
    lines: [
      'Up to four ControlNet units: model, preprocessor, control image, weight, and guidance start and end.',
      'Preprocessor previews (canny, depth, pose) before generating.',
    ],
  },
} as const;

@customElement('easel-feature-placeholder')
export class EaselFeaturePlaceholder extends LitElement {
  static override styles = [
    controls,
    css`
      .card {
        max-width: 720px;
      }
      .soon {
        display: inline-block;
        font-size: 0.75rem;
        padding: 2px 8px;
        border-radius: 999px;
        background: var(--surface-2);
        color: var(--text-muted);
        margin-left: 8px;
        vertical-align: middle;
      }
      ul {
        padding-left: 1.2rem;
        line-height: 1.5;
      }
      img {
        max-width: 100%;
        max-height: 50vh;
        border-radius: var(--radius);
        display: block;
      }
    `,
  ];

  @property() feature: 'inpaint' | 'controlnet' = 'inpaint';
  @state() private image: GalleryImage | null = null;

  receiveImage(image: GalleryImage): void {
    this.image = image;
  }

  override render() {
    const f = FEATURES[this.feature];
    return html`<div class="card">
      <h2>${f.title}<span class="soon">coming next</span></h2>
      <p class="muted">This tab will hold:</p>
      <ul>
        ${f.lines.map((l) => html`<li>${l}</li>`)}
      </ul>
      ${this.image
        ? html`<p>Image received for ${f.title.toLowerCase()} (${this.image.width}×${this.image.height}, seed ${this.image.seed}):</p>
            <img src=${fileUrl(currentSettings().serverUrl, this.image.url)} alt=${this.image.prompt} />`
        : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-feature-placeholder': EaselFeaturePlaceholder;
  }
}

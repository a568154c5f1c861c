// <easel-init-image>: the img2img source. Pick a file (or drop one anywhere on the Generate tab,
// handled by the panel), see it, set the denoising strength, or remove it to go back to txt2img.
//
// Public surface: properties `image` (InitImage | null), `strength`, `error`; events
// `image-change` (CustomEvent<InitImage | null>), `strength-change` (CustomEvent<number>).
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { InitImage } from '../../logic/generation-form.js';
import { icons } from '../shared/icons.js';
import { controls } from '../shared/styles.js';

/** Reads an image file into the form's InitImage (data URL + natural size). */
export async function readImageFile(file: Blob, name: string): Promise<InitImage> {
  if (!file.type.startsWith('image/')) throw new Error(`${name} is not an image`);
  const dataUrl = await new Promise<string>((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error('cannot read the file'));
    r.readAsDataURL(file);
  });
  const bitmap = await createImageBitmap(file);
  const image: InitImage = { dataUrl, name, width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return image;
}

@customElement('easel-init-image')
export class EaselInitImage extends LitElement {
  static override styles = [
    controls,
    css`
      .box {
        display: flex;
        gap: 12px;
        align-items: center;
        flex-wrap: wrap;
      }
      img {
        width: 96px;
        height: 96px;
        object-fit: cover;
        border-radius: var(--radius);
        border: 1px solid var(--border);
      }
      .meta {
        flex: 1;
        min-width: 160px;
      }
      input[type='file'] {
        display: none;
      }
      .hint {
        font-size: 0.85rem;
      }
    `,
  ];

  @property({ attribute: false }) image: InitImage | null = null;
  @property({ type: Number }) strength = 0.75;
  @property() error: string | undefined;

  private async onPick(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      this.dispatchEvent(new CustomEvent('image-change', { detail: await readImageFile(file, file.name) }));
    } catch (err) {
      this.dispatchEvent(new CustomEvent('image-error', { detail: err instanceof Error ? err.message : String(err) }));
    }
  }

  override render() {
    const picker = html`<label class="button" role="button" tabindex="0"
      >${icons.image} ${this.image ? 'Replace image' : 'Pick an image'}
      <input type="file" accept="image/png,image/jpeg,image/webp" @change=${this.onPick} data-testid="init-image-input"
    /></label>`;
    if (!this.image) {
      return html`<div class="box">${picker}<span class="muted hint">or drop one here to switch to img2img</span></div>`;
    }
    return html`<div class="box">
      <img src=${this.image.dataUrl} alt="img2img source" />
      <div class="meta">
        <div>${this.image.name} · ${this.image.width}×${this.image.height}</div>
        <div class="field ${this.error ? 'invalid' : ''}">
          <label for="strength">Denoising strength: ${this.strength.toFixed(2)}</label>
          <input
            id="strength"
            type="range"
            min="0"
            max="1"
            step="0.01"
            .value=${String(this.strength)}
            @input=${(e: Event) => this.dispatchEvent(new CustomEvent('strength-change', { detail: (e.target as HTMLInputElement).valueAsNumber }))}
          />
          ${this.error ? html`<div class="error-text">${this.error}</div>` : ''}
        </div>
      </div>
      ${picker}
      <button class="danger" @click=${() => this.dispatchEvent(new CustomEvent('image-change', { detail: null }))}>Back to txt2img</button>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-init-image': EaselInitImage;
  }
}

// <easel-feature-placeholder feature="controlnet">: what a tab will hold until its issue lands
// (ControlNet; Inpaint has its own tab now).
//
// Public surface: attribute `feature`.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { controls } from '../shared/styles.js';

const FEATURES = {
  controlnet: {
    title: 'ControlNet',
    lines: [
      'Up to four ControlNet units: model, preprocessor, control image, weight, and guidance start and end.',
      'Preprocessor previews (canny, depth, pose) before generating.',
    ],
  },
} as const;

export type PlaceholderFeature = keyof typeof FEATURES;

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
    `,
  ];

  @property() feature: PlaceholderFeature = 'controlnet';

  override render() {
    const f = FEATURES[this.feature];
    return html`<div class="card">
      <h2>${f.title}<span class="soon">coming next</span></h2>
      <p class="muted">This tab will hold:</p>
      <ul>
        ${f.lines.map((l) => html`<li>${l}</li>`)}
      </ul>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-feature-placeholder': EaselFeaturePlaceholder;
  }
}

// <easel-compare-slider>: before / after of an inpaint or img2img job. The "after" image is drawn
// over the "before" and clipped at the slider's position; dragging anywhere on the images (mouse,
// pen or finger, Pointer Events) or the range input (keyboard) moves the split.
//
// Public surface: properties `beforeSrc`, `afterSrc` (image URLs), `position` (0..1).
import { LitElement, css, html } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { controls } from '../shared/styles.js';

@customElement('easel-compare-slider')
export class EaselCompareSlider extends LitElement {
  static override styles = [
    controls,
    css`
      .frame {
        position: relative;
        display: grid;
        touch-action: none;
        user-select: none;
        border-radius: var(--radius);
        overflow: hidden;
        background: var(--surface-2);
      }
      img {
        grid-area: 1 / 1;
        width: 100%;
        max-height: 60dvh;
        object-fit: contain;
        display: block;
        pointer-events: none;
      }
      .divider {
        position: absolute;
        top: 0;
        bottom: 0;
        width: 2px;
        background: #fff;
        box-shadow: 0 0 0 1px rgb(0 0 0 / 0.5);
        pointer-events: none;
      }
      .tag {
        position: absolute;
        top: 6px;
        font-size: 0.75rem;
        padding: 2px 6px;
        border-radius: 6px;
        background: rgb(0 0 0 / 0.55);
        color: #fff;
        pointer-events: none;
      }
    `,
  ];

  @property() beforeSrc = '';
  @property() afterSrc = '';
  @property({ type: Number }) position = 0.5;
  @query('.frame') private frame!: HTMLDivElement;
  private dragging: number | null = null;

  private moveTo(clientX: number): void {
    const r = this.frame.getBoundingClientRect();
    this.position = Math.min(1, Math.max(0, (clientX - r.left) / Math.max(1, r.width)));
  }

  private readonly onDown = (e: PointerEvent): void => {
    this.dragging = e.pointerId;
    this.frame.setPointerCapture(e.pointerId);
    this.moveTo(e.clientX);
  };

  private readonly onMove = (e: PointerEvent): void => {
    if (this.dragging === e.pointerId) this.moveTo(e.clientX);
  };

  private readonly onUp = (e: PointerEvent): void => {
    if (this.dragging === e.pointerId) this.dragging = null;
  };

  override render() {
    const pct = `${(this.position * 100).toFixed(1)}%`;
    return html`<div class="frame" data-testid="compare" @pointerdown=${this.onDown} @pointermove=${this.onMove} @pointerup=${this.onUp} @pointercancel=${this.onUp}>
        <img src=${this.beforeSrc} alt="before" />
        <img src=${this.afterSrc} alt="after" data-testid="compare-after" style="clip-path: inset(0 0 0 ${pct})" />
        <div class="divider" style="left: ${pct}"></div>
        <span class="tag" style="left:6px">Before</span>
        <span class="tag" style="right:6px">After</span>
      </div>
      <label class="sr-only" for="split">Before/after split</label>
      <input id="split" type="range" min="0" max="1" step="0.01" .value=${String(this.position)} @input=${(e: Event) => (this.position = (e.target as HTMLInputElement).valueAsNumber)} />`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-compare-slider': EaselCompareSlider;
  }
}

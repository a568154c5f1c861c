// <easel-gallery-grid>: the virtualised thumbnail grid. Only the rows near the viewport exist in
// the DOM (logic/virtual-grid.ts), positioned inside a spacer as tall as the whole grid, so 10,000
// images scroll like 50. It follows the page's own scroll (not an inner scroller) so phones keep
// their native scrolling and address-bar behaviour.
//
// Public surface: properties `items` (GalleryImage[]), `selecting` (boolean), `selected`
// (ReadonlySet<string>); events `open` (CustomEvent<GalleryImage>), `toggle-select`
// (CustomEvent<string>), `near-end` (Event, time to load the next page).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import './gallery-thumb.js';
import type { GalleryImage } from '../../data/protocol.js';
import { layoutGrid, nearEnd, visibleRange, type GridLayout } from '../../logic/virtual-grid.js';
import { icons } from '../shared/icons.js';

const GAP_PX = 6;
const MIN_CELL_PHONE_PX = 110;
const MIN_CELL_DESKTOP_PX = 170;
const PHONE_MAX_WIDTH_PX = 600;
/** Start loading the next page this far before the end, so scrolling rarely waits. */
const PREFETCH_PX = 1500;

@customElement('easel-gallery-grid')
export class EaselGalleryGrid extends LitElement {
  static override styles = css`
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }
    :host {
      display: block;
      position: relative;
      contain: layout;
    }
    .window {
      position: absolute;
      left: 0;
      right: 0;
      top: 0;
      display: grid;
      will-change: transform;
    }
    .cell {
      position: relative;
      padding: 0;
      border: none;
      border-radius: 8px;
      overflow: hidden;
      background: var(--surface-2);
      cursor: pointer;
      color: inherit;
    }
    .cell:focus-visible {
      outline: 3px solid var(--focus);
      outline-offset: 1px;
    }
    .fav {
      position: absolute;
      top: 4px;
      right: 4px;
      color: #ffd166;
      filter: drop-shadow(0 1px 2px rgb(0 0 0 / 0.7));
      width: 20px;
      height: 20px;
    }
    .fav svg {
      width: 20px;
      height: 20px;
    }
    .check {
      position: absolute;
      top: 6px;
      left: 6px;
      width: 26px;
      height: 26px;
      border-radius: 50%;
      border: 2px solid #fff;
      background: rgb(0 0 0 / 0.35);
      display: grid;
      place-items: center;
      color: #fff;
    }
    .cell[aria-pressed='true'] {
      outline: 3px solid var(--accent);
      outline-offset: -3px;
    }
    .cell[aria-pressed='true'] .check {
      background: var(--accent);
      border-color: var(--accent);
    }
    .check svg {
      width: 16px;
      height: 16px;
    }
  `;

  @property({ attribute: false }) items: GalleryImage[] = [];
  @property({ type: Boolean }) selecting = false;
  @property({ attribute: false }) selected: ReadonlySet<string> = new Set();
  @state() private width = 0;
  @state() private pageOffset = 0;
  @state() private viewport = 800;

  private resizeObserver: ResizeObserver | null = null;
  private frame = 0;
  private askedForMoreAt = -1;

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width ?? 0;
      if (Math.abs(w - this.width) >= 1) this.width = w;
    });
    this.resizeObserver.observe(this);
    window.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onScroll, { passive: true });
    this.onScroll();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    window.removeEventListener('scroll', this.onScroll);
    window.removeEventListener('resize', this.onScroll);
    cancelAnimationFrame(this.frame);
  }

  /** One measurement per animation frame, however many scroll events arrive. */
  private readonly onScroll = (): void => {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const top = this.getBoundingClientRect().top;
      this.pageOffset = Math.max(0, -top);
      this.viewport = window.innerHeight;
    });
  };

  private layout(): GridLayout {
    const minCell = this.width <= PHONE_MAX_WIDTH_PX ? MIN_CELL_PHONE_PX : MIN_CELL_DESKTOP_PX;
    return layoutGrid(this.width, this.items.length, GAP_PX, minCell);
  }

  override updated(): void {
    if (this.width === 0 || this.items.length === 0) return;
    const layout = this.layout();
    // Ask once per list length, so a slow page load is not requested again on every frame.
    if (nearEnd(layout, this.pageOffset, this.viewport, PREFETCH_PX) && this.askedForMoreAt !== this.items.length) {
      this.askedForMoreAt = this.items.length;
      this.dispatchEvent(new Event('near-end'));
    }
  }

  private onCellClick(img: GalleryImage): void {
    if (this.selecting) this.dispatchEvent(new CustomEvent('toggle-select', { detail: img.id }));
    else this.dispatchEvent(new CustomEvent('open', { detail: img }));
  }

  override render() {
    const layout = this.layout();
    const range = visibleRange(layout, this.items.length, this.pageOffset, this.viewport, 3);
    const visible = this.items.slice(range.start, range.end);
    return html`<div style="height:${layout.totalHeight}px" data-testid="gallery-spacer"></div>
      <div
        class="window"
        style="transform:translateY(${range.offsetY}px);grid-template-columns:repeat(${layout.columns}, ${layout.cell}px);grid-auto-rows:${layout.cell}px;gap:${layout.gap}px"
        role="list"
      >
        ${repeat(
          visible,
          (img) => img.id,
          (img) => html`<button
            class="cell"
            role="listitem"
            data-id=${img.id}
            data-testid="gallery-item"
            aria-pressed=${this.selecting ? String(this.selected.has(img.id)) : nothing}
            aria-label=${img.prompt ? img.prompt.slice(0, 80) : `image ${img.id}`}
            @click=${() => this.onCellClick(img)}
          >
            <easel-gallery-thumb .image=${img}></easel-gallery-thumb>
            ${img.favorite ? html`<span class="fav" data-testid="fav-badge">${icons.starFilled}</span>` : nothing}
            ${this.selecting ? html`<span class="check">${this.selected.has(img.id) ? icons.check : nothing}</span>` : nothing}
          </button>`,
        )}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-gallery-grid': EaselGalleryGrid;
  }
}

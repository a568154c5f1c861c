// <easel-mask-toolbar>: the inpaint editor's controls: brush / eraser, size (also `[` and `]`),
// soft edge, undo / redo, clear, invert, zoom out / fit / zoom in, view (image + mask, original,
// mask only), overlay colour and opacity; the less frequent ones fold behind "⋯" so a phone keeps
// the canvas in view. Holds no settings of its own: the panel owns them.
//
// Public surface: property `settings` (EditorSettings), `canUndo`, `canRedo`, `zoom` (for the
// percentage shown); events `settings-change` (CustomEvent<Partial<EditorSettings>>) and
// `editor-command` (CustomEvent<EditorCommand>).
import { LitElement, css, html, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { MAX_BRUSH, MIN_BRUSH } from '../../logic/stroke-raster.js';
import { controls } from '../shared/styles.js';
import type { MaskTool, MaskViewMode } from './mask-editor.js';

export interface EditorSettings {
  tool: MaskTool;
  size: number;
  softness: number;
  overlayColor: string;
  overlayOpacity: number;
  viewMode: MaskViewMode;
}

export type EditorCommand = 'undo' | 'redo' | 'clear' | 'invert' | 'fit' | 'zoom-in' | 'zoom-out';

export const DEFAULT_EDITOR_SETTINGS: EditorSettings = {
  tool: 'brush',
  size: 32,
  softness: 0,
  overlayColor: '#ff3030',
  overlayOpacity: 0.5,
  viewMode: 'both',
};


const brushIcon = svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M18 3l3 3-9 9-3-3z"/><path d="M9 12c-3 0-5 2-5 5 0 1.5-1 3-2 3 5 1 9-1 9-5z"/></svg>`;
const eraserIcon = svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M7 20h13"/><path d="M4 14l9-9 7 7-8 8H8z"/><path d="M9 9l7 7"/></svg>`;

const VIEW_LABELS: Record<MaskViewMode, string> = { both: 'Both', original: 'Original', mask: 'Mask' };

@customElement('easel-mask-toolbar')
export class EaselMaskToolbar extends LitElement {
  static override styles = [
    controls,
    css`
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        align-items: center;
      }
      .group {
        display: inline-flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      button[aria-pressed='true'] {
        border-color: var(--accent);
        background: color-mix(in srgb, var(--accent) 22%, var(--surface-2));
      }
      .sliders {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        gap: 4px 12px;
        margin-top: 8px;
      }
      .sliders label {
        margin: 0;
      }
      input[type='color'] {
        width: var(--touch);
        padding: 2px;
      }
      .group.wide {
        align-items: center;
      }
      /* Phones: the less frequent tools wait behind "⋯"; wide screens show everything. */
      @media (max-width: 999px) {
        div:not(.open) > .bar > .extra,
        div:not(.open) > .sliders > .extra {
          display: none;
        }
      }
      @media (min-width: 1000px) {
        .more {
          display: none;
        }
      }
      .zoom {
        font-variant-numeric: tabular-nums;
        font-size: 0.85rem;
        min-width: 3.5em;
        text-align: center;
      }
    `,
  ];

  @property({ attribute: false }) settings: EditorSettings = DEFAULT_EDITOR_SETTINGS;
  @property({ type: Boolean }) canUndo = false;
  @property({ type: Boolean }) canRedo = false;
  @property({ type: Number }) zoom = 1;
  /** Narrow screens show the everyday tools; the rest folds away behind "⋯". */
  @state() private more = false;

  private set(patch: Partial<EditorSettings>): void {
    this.dispatchEvent(new CustomEvent('settings-change', { detail: patch }));
  }

  private cmd(command: EditorCommand): void {
    this.dispatchEvent(new CustomEvent('editor-command', { detail: command }));
  }

  private range(e: Event): number {
    return (e.target as HTMLInputElement).valueAsNumber;
  }

  override render() {
    const s = this.settings;
    return html`<div class=${this.more ? 'open' : ''}><div class="bar" role="toolbar" aria-label="Mask tools">
        <button class="icon" aria-pressed=${s.tool === 'brush'} aria-label="Brush" title="Brush" data-testid="tool-brush" @click=${() => this.set({ tool: 'brush' })}>${brushIcon}</button>
        <button class="icon" aria-pressed=${s.tool === 'eraser'} aria-label="Eraser" title="Eraser" data-testid="tool-eraser" @click=${() => this.set({ tool: 'eraser' })}>${eraserIcon}</button>
        <button class="icon" aria-label="Undo (Ctrl+Z)" title=${this.canUndo ? 'Undo (Ctrl+Z)' : 'Nothing to undo'} data-testid="undo" ?disabled=${!this.canUndo} @click=${() => this.cmd('undo')}>↶</button>
        <button class="icon" aria-label="Redo (Ctrl+Shift+Z)" title=${this.canRedo ? 'Redo (Ctrl+Shift+Z)' : 'Nothing to redo'} data-testid="redo" ?disabled=${!this.canRedo} @click=${() => this.cmd('redo')}>↷</button>
        <button data-testid="fit" title="Fit to screen" @click=${() => this.cmd('fit')}>Fit</button>
        <button aria-label="More tools" title="More tools" aria-expanded=${this.more} data-testid="more-tools" class="icon more" @click=${() => (this.more = !this.more)}>⋯</button>
        <span class="group wide extra">
          <button data-testid="clear" @click=${() => this.cmd('clear')}>Clear</button>
          <button data-testid="invert" @click=${() => this.cmd('invert')}>Invert</button>
          <button class="icon" aria-label="Zoom out" data-testid="zoom-out" @click=${() => this.cmd('zoom-out')}>−</button>
          <span class="zoom" data-testid="zoom-level">${Math.round(this.zoom * 100)}%</span>
          <button class="icon" aria-label="Zoom in" data-testid="zoom-in" @click=${() => this.cmd('zoom-in')}>+</button>
        </span>
        <span class="group extra" role="group" aria-label="View">
          ${(Object.keys(VIEW_LABELS) as MaskViewMode[]).map(
            (m) => html`<button aria-pressed=${s.viewMode === m} data-testid="view-${m}" @click=${() => this.set({ viewMode: m })}>${VIEW_LABELS[m]}</button>`,
          )}
        </span>
      </div>
      <div class="sliders">
        <div>
          <label for="brush-size">Size: ${s.size} px <span class="muted">([ ])</span></label>
          <input id="brush-size" data-testid="brush-size" type="range" min=${MIN_BRUSH} max=${MAX_BRUSH} step="1" .value=${String(s.size)} @input=${(e: Event) => this.set({ size: this.range(e) })} />
        </div>
        <div>
          <label for="softness">Soft edge: ${Math.round(s.softness * 100)}%</label>
          <input id="softness" type="range" min="0" max="1" step="0.05" .value=${String(s.softness)} @input=${(e: Event) => this.set({ softness: this.range(e) })} />
        </div>
        <div class="extra">
          <label for="opacity">Overlay: ${Math.round(s.overlayOpacity * 100)}%</label>
          <input id="opacity" type="range" min="0.1" max="1" step="0.05" .value=${String(s.overlayOpacity)} @input=${(e: Event) => this.set({ overlayOpacity: this.range(e) })} />
        </div>
        <div class="extra">
          <label for="overlay-color">Overlay colour</label>
          <input id="overlay-color" type="color" .value=${s.overlayColor} @input=${(e: Event) => this.set({ overlayColor: (e.target as HTMLInputElement).value })} />
        </div>
      </div></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-mask-toolbar': EaselMaskToolbar;
  }
}

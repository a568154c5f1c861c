// <easel-gallery-panel>: the Gallery tab. Filters (task, favorites, model, date range) and prompt
// search, the virtualised grid with infinite scroll, the metadata viewer, favorites, delete,
// multi-select with zip download, new images appearing live. When the server is out of reach it
// browses the IndexedDB copy and says so; changes made then are replayed on reconnect.
//
// Public surface: none beyond the element; reads data/services.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import './gallery-grid.js';
import './image-viewer.js';
import { saveBlob } from '../../app/download.js';
import { toast, toastError } from '../../app/toasts.js';
import { ConnectionController } from '../../controllers/connection-controller.js';
import type { GalleryImage } from '../../data/protocol.js';
import { gallery } from '../../data/services.js';
import { matchesFilter, type GalleryFilter } from '../../logic/gallery-filter.js';
import { icons } from '../shared/icons.js';
import { controls } from '../shared/styles.js';

const PAGE_SIZE = 120;
const SEARCH_DEBOUNCE_MS = 300;
const TASKS = ['txt2img', 'img2img', 'inpaint', 'upscale', 'adetailer'] as const;

@customElement('easel-gallery-panel')
export class EaselGalleryPanel extends LitElement {
  static override styles = [
    controls,
    css`
      .filters {
        display: grid;
        gap: 8px;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        margin-bottom: 10px;
      }
      .filters .search {
        grid-column: 1 / -1;
      }
      @media (min-width: 900px) {
        .filters {
          grid-template-columns: minmax(220px, 2fr) repeat(5, minmax(0, 1fr));
          align-items: end;
        }
        .filters .search {
          grid-column: auto;
        }
      }
      .fav-toggle[aria-pressed='true'] {
        color: var(--warn);
        border-color: var(--warn);
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
        margin-bottom: 10px;
      }
      .status {
        flex: 1;
        min-width: 140px;
        font-size: 0.85rem;
        color: var(--text-muted);
      }
      .badge {
        display: inline-block;
        padding: 2px 8px;
        border-radius: 999px;
        background: var(--surface-2);
        margin-left: 6px;
      }
      .empty {
        text-align: center;
        padding: 48px 12px;
        color: var(--text-muted);
      }
    `,
  ];

  @state() private items: GalleryImage[] = [];
  @state() private cursor: string | null = null;
  @state() private loading = false;
  @state() private source: 'server' | 'cache' | null = null;
  @state() private filter: GalleryFilter = {};
  @state() private searchText = '';
  @state() private selecting = false;
  @state() private selected = new Set<string>();
  @state() private viewing: GalleryImage | null = null;
  @state() private pending = gallery.pendingCount;

  private readonly conn = new ConnectionController(this);
  private loadSeq = 0;
  private searchTimer: number | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly knownModels = new Set<string>();

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe.push(
      gallery.listen('new', (e) => this.onNew(e.detail)),
      gallery.listen('changed', (e) => this.onChanged(e.detail.updated, e.detail.deleted)),
      gallery.listen('pending', (e) => (this.pending = e.detail)),
      gallery.listen('synced', (e) => {
        if (e.detail > 0) toast(`${e.detail} offline change${e.detail > 1 ? 's' : ''} applied on the server`, 'success');
        void this.reload();
      }),
    );
    void this.reload();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private async reload(): Promise<void> {
    this.cursor = null;
    await this.load(true);
  }

  private async load(reset: boolean): Promise<void> {
    if (!reset && (this.loading || this.cursor === null)) return;
    const seq = ++this.loadSeq;
    this.loading = true;
    try {
      const page = await gallery.page(this.filter, reset ? null : this.cursor, PAGE_SIZE);
      if (seq !== this.loadSeq) return;
      for (const i of page.items) if (i.model) this.knownModels.add(i.model);
      if (reset) {
        this.items = page.items;
      } else {
        const have = new Set(this.items.map((i) => i.id));
        this.items = [...this.items, ...page.items.filter((i) => !have.has(i.id))];
      }
      this.cursor = page.nextCursor;
      this.source = page.source;
      this.pending = gallery.pendingCount;
    } catch (err) {
      if (seq === this.loadSeq) toastError(err);
    } finally {
      if (seq === this.loadSeq) this.loading = false;
    }
  }

  private setFilter(patch: Partial<GalleryFilter>): void {
    const next: GalleryFilter = { ...this.filter, ...patch };
    for (const k of Object.keys(next) as (keyof GalleryFilter)[]) if (next[k] === undefined || next[k] === '') delete next[k];
    this.filter = next;
    void this.reload();
  }

  private onSearchInput(e: Event): void {
    this.searchText = (e.target as HTMLInputElement).value;
    window.clearTimeout(this.searchTimer);
    this.searchTimer = window.setTimeout(() => this.setFilter({ search: this.searchText.trim() || undefined }), SEARCH_DEBOUNCE_MS);
  }

  private onNew(images: GalleryImage[]): void {
    const fresh = images.filter((i) => matchesFilter(i, this.filter) && !this.items.some((x) => x.id === i.id));
    if (fresh.length) this.items = [...fresh, ...this.items];
  }

  private onChanged(updated: GalleryImage[], deleted: string[]): void {
    const gone = new Set(deleted);
    const byId = new Map(updated.map((u) => [u.id, u]));
    this.items = this.items
      .filter((i) => !gone.has(i.id))
      .map((i) => byId.get(i.id) ?? i)
      .filter((i) => !byId.has(i.id) || matchesFilter(i, this.filter));
    if (this.viewing && byId.has(this.viewing.id)) this.viewing = byId.get(this.viewing.id)!;
    if (this.viewing && gone.has(this.viewing.id)) this.viewing = null;
  }

  private async toggleFavorite(img: GalleryImage): Promise<void> {
    try {
      await gallery.setFavorite(img, !img.favorite);
      if (!this.conn.connected) toast('Offline: the favorite will be saved on the server when the connection returns', 'info');
    } catch (err) {
      toastError(err);
    }
  }

  private async deleteImages(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    if (!confirm(`Delete ${ids.length} image${ids.length > 1 ? 's' : ''}? This cannot be undone.`)) return;
    try {
      await gallery.remove(ids);
      this.selected = new Set();
      this.viewing = null;
    } catch (err) {
      toastError(err);
    }
  }

  private async zipSelected(): Promise<void> {
    const ids = [...this.selected];
    if (ids.length === 0) return;
    try {
      toast(`Preparing a zip of ${ids.length} image${ids.length > 1 ? 's' : ''}…`);
      saveBlob(await gallery.zip(ids), `easel-${new Date().toISOString().slice(0, 10)}-${ids.length}.zip`);
    } catch (err) {
      toastError(err);
    }
  }

  private toggleSelect(id: string): void {
    const next = new Set(this.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.selected = next;
  }

  private renderFilters() {
    const f = this.filter;
    return html`<div class="filters">
      <div class="field search">
        <label for="g-search">Search prompts</label>
        <input id="g-search" type="search" placeholder="e.g. red fox" .value=${this.searchText} @input=${this.onSearchInput} data-testid="gallery-search" />
      </div>
      <div class="field">
        <label for="g-task">Task</label>
        <select id="g-task" @change=${(e: Event) => this.setFilter({ task: (e.target as HTMLSelectElement).value || undefined })} data-testid="gallery-task">
          <option value="">All</option>
          ${TASKS.map((t) => html`<option value=${t} ?selected=${f.task === t}>${t}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="g-model">Model</label>
        <select id="g-model" @change=${(e: Event) => this.setFilter({ model: (e.target as HTMLSelectElement).value || undefined })}>
          <option value="">All</option>
          ${[...this.knownModels].sort().map((m) => html`<option value=${m} ?selected=${f.model === m}>${m}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="g-from">From</label>
        <input id="g-from" type="date" .value=${f.date_from ?? ''} @change=${(e: Event) => this.setFilter({ date_from: (e.target as HTMLInputElement).value || undefined })} />
      </div>
      <div class="field">
        <label for="g-to">To</label>
        <input id="g-to" type="date" .value=${f.date_to ?? ''} @change=${(e: Event) => this.setFilter({ date_to: (e.target as HTMLInputElement).value || undefined })} />
      </div>
      <div class="field">
        <span class="label">Favorites</span>
        <button class="fav-toggle" style="width:100%" aria-pressed=${f.favorite === true} data-testid="gallery-favorites" @click=${() => this.setFilter({ favorite: f.favorite ? undefined : true })}>
          ${f.favorite ? icons.starFilled : icons.star} Only favorites
        </button>
      </div>
    </div>`;
  }

  private renderToolbar() {
    const offline = this.source === 'cache';
    return html`<div class="toolbar">
      <span class="status" data-testid="gallery-status">
        ${this.items.length}${this.cursor ? '+' : ''} image${this.items.length === 1 ? '' : 's'}
        ${offline ? html`<span class="badge" data-testid="offline-badge">offline copy</span>` : nothing}
        ${this.pending > 0 ? html`<span class="badge">${this.pending} change${this.pending > 1 ? 's' : ''} waiting</span>` : nothing}
        ${this.loading ? html`<span class="badge">loading…</span>` : nothing}
      </span>
      ${this.selecting
        ? html`<span class="muted">${this.selected.size} selected</span>
            <button @click=${() => (this.selected = new Set(this.items.map((i) => i.id)))}>All</button>
            <button
              ?disabled=${this.selected.size === 0 || !this.conn.connected}
              title=${this.selected.size === 0 ? 'Select images first' : this.conn.connected ? '' : 'Zips are made on the server: connect first'}
              @click=${this.zipSelected} data-testid="zip">${icons.download} Zip</button>
            <button class="danger" ?disabled=${this.selected.size === 0} title=${this.selected.size === 0 ? 'Select images first' : ''} @click=${() => this.deleteImages([...this.selected])}>${icons.trash} Delete</button>
            <button @click=${() => ((this.selecting = false), (this.selected = new Set()))}>Done</button>`
        : html`<button @click=${() => (this.selecting = true)} data-testid="select-mode">Select</button>`}
    </div>`;
  }

  override render() {
    return html`
      ${this.renderFilters()} ${this.renderToolbar()}
      ${this.items.length === 0 && !this.loading
        ? html`<div class="empty card" data-testid="gallery-empty">
            ${this.source === 'cache' ? 'No images in the offline copy match.' : 'No images yet. Generated images appear here as they finish.'}
          </div>`
        : nothing}
      <easel-gallery-grid
        .items=${this.items}
        .selecting=${this.selecting}
        .selected=${this.selected}
        @open=${(e: CustomEvent<GalleryImage>) => (this.viewing = e.detail)}
        @toggle-select=${(e: CustomEvent<string>) => this.toggleSelect(e.detail)}
        @near-end=${() => void this.load(false)}
      ></easel-gallery-grid>
      <easel-image-viewer
        .image=${this.viewing}
        @close=${() => (this.viewing = null)}
        @favorite=${(e: CustomEvent<GalleryImage>) => this.toggleFavorite(e.detail)}
        @delete=${(e: CustomEvent<GalleryImage>) => this.deleteImages([e.detail.id])}
      ></easel-image-viewer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-gallery-panel': EaselGalleryPanel;
  }
}

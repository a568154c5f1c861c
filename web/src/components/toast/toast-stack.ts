// <easel-toast-stack>: renders the app's toast queue (app/toasts.ts), at most 5 at a time, each
// dismissed by its close button or after its duration. Errors use role="alert" so screen readers
// announce them at once.
//
// Public surface: no properties; reads the toast store.
import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { toasts } from '../../app/toasts.js';
import { EventController } from '../../controllers/event-controller.js';
import { icons } from '../shared/icons.js';
import type { Toast } from '../../logic/toast-queue.js';

@customElement('easel-toast-stack')
export class EaselToastStack extends LitElement {
  static override styles = css`
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }
    :host {
      position: fixed;
      z-index: 50;
      left: 50%;
      transform: translateX(-50%);
      bottom: calc(var(--tabbar-height) + 12px + env(safe-area-inset-bottom));
      width: min(560px, calc(100vw - 24px));
      display: flex;
      flex-direction: column;
      gap: 8px;
      pointer-events: none;
    }
    @media (min-width: 900px) {
      :host {
        bottom: 20px;
        left: auto;
        right: 20px;
        transform: none;
        width: 400px;
      }
    }
    .toast {
      pointer-events: auto;
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 6px 6px 6px 14px;
      border-radius: 12px;
      background: var(--surface-2);
      color: var(--text);
      border: 1px solid var(--border);
      border-left: 5px solid var(--accent);
      box-shadow: var(--shadow);
      font-size: 0.92rem;
      line-height: 1.35;
      overflow-wrap: anywhere;
    }
    .toast[data-kind='error'] {
      border-left-color: var(--danger);
    }
    .toast[data-kind='warning'] {
      border-left-color: var(--warn);
    }
    .toast[data-kind='success'] {
      border-left-color: var(--ok);
    }
    .msg {
      flex: 1;
      min-width: 0;
    }
    button {
      flex: none;
      width: var(--touch);
      height: var(--touch);
      border: none;
      background: transparent;
      color: var(--text-muted);
      cursor: pointer;
      border-radius: 50%;
    }
  `;

  private readonly timers = new Map<number, number>();
  private readonly store = new EventController(this, toasts, ['change'], () => this.scheduleTimers());

  private scheduleTimers(): void {
    for (const t of toasts.state.visible) {
      if (this.timers.has(t.id)) continue;
      this.timers.set(
        t.id,
        window.setTimeout(() => {
          this.timers.delete(t.id);
          toasts.dismiss(t.id);
        }, t.durationMs),
      );
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const t of this.timers.values()) window.clearTimeout(t);
    this.timers.clear();
  }

  private renderToast(t: Toast) {
    return html`<div class="toast" data-kind=${t.kind} role=${t.kind === 'error' ? 'alert' : 'status'}>
      <span class="msg">${t.message}${t.count > 1 ? ` (×${t.count})` : ''}</span>
      <button aria-label="Dismiss" @click=${() => toasts.dismiss(t.id)}>${icons.close}</button>
    </div>`;
  }

  override render() {
    void this.store;
    return repeat(
      toasts.state.visible,
      (t) => t.id,
      (t) => this.renderToast(t),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-toast-stack': EaselToastStack;
  }
}

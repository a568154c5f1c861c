// The app-wide toast store: any module calls `toast()`, the toast stack component renders it.
import { describeError } from '../data/errors.js';
import { dismissToast, emptyToasts, pushToast, type ToastKind, type ToastState } from '../logic/toast-queue.js';

class ToastStore extends EventTarget {
  state: ToastState = emptyToasts();

  push(kind: ToastKind, message: string): void {
    this.state = pushToast(this.state, kind, message);
    this.dispatchEvent(new Event('change'));
  }

  dismiss(id: number): void {
    this.state = dismissToast(this.state, id);
    this.dispatchEvent(new Event('change'));
  }
}

export const toasts = new ToastStore();

export function toast(message: string, kind: ToastKind = 'info'): void {
  toasts.push(kind, message);
}

/** Shows an error as a toast with the app's wording (auth, rate limit, engine, ...). */
export function toastError(err: unknown): void {
  toasts.push('error', describeError(err));
}

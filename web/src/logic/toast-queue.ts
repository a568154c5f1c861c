// The toast queue: at most 5 toasts on screen, the rest wait their turn; identical messages shown
// at the same time are merged (a flapping connection must not fill the screen). Pure state.

export const MAX_VISIBLE_TOASTS = 5;

export type ToastKind = 'info' | 'success' | 'warning' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
  /** How many times this message was raised while visible or waiting. */
  count: number;
  /** Auto-dismiss delay; errors stay longer because they need reading. */
  durationMs: number;
}

export const TOAST_DURATION_MS: Record<ToastKind, number> = { info: 4000, success: 4000, warning: 6000, error: 9000 };

export interface ToastState {
  visible: Toast[];
  waiting: Toast[];
  nextId: number;
}

export function emptyToasts(): ToastState {
  return { visible: [], waiting: [], nextId: 1 };
}

export function pushToast(s: ToastState, kind: ToastKind, message: string): ToastState {
  const same = (t: Toast): boolean => t.kind === kind && t.message === message;
  if (s.visible.some(same)) return { ...s, visible: s.visible.map((t) => (same(t) ? { ...t, count: t.count + 1 } : t)) };
  if (s.waiting.some(same)) return { ...s, waiting: s.waiting.map((t) => (same(t) ? { ...t, count: t.count + 1 } : t)) };
  const toast: Toast = { id: s.nextId, kind, message, count: 1, durationMs: TOAST_DURATION_MS[kind] };
  return s.visible.length < MAX_VISIBLE_TOASTS
    ? { visible: [...s.visible, toast], waiting: s.waiting, nextId: s.nextId + 1 }
    : { visible: s.visible, waiting: [...s.waiting, toast], nextId: s.nextId + 1 };
}

/** Removes a toast; the oldest waiting one takes its place. */
export function dismissToast(s: ToastState, id: number): ToastState {
  const visible = s.visible.filter((t) => t.id !== id);
  const waiting = s.waiting.filter((t) => t.id !== id);
  while (visible.length < MAX_VISIBLE_TOASTS && waiting.length > 0) visible.push(waiting.shift()!);
  return { ...s, visible, waiting };
}

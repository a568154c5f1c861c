import { describe, expect, it } from 'vitest';
import { dismissToast, emptyToasts, MAX_VISIBLE_TOASTS, pushToast } from './toast-queue.js';

describe('toast queue', () => {
  it('shows at most five and queues the rest in order', () => {
    let s = emptyToasts();
    for (let i = 0; i < 8; i++) s = pushToast(s, 'info', `m${i}`);
    expect(MAX_VISIBLE_TOASTS).toBe(5);
    expect(s.visible.map((t) => t.message)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(s.waiting.map((t) => t.message)).toEqual(['m5', 'm6', 'm7']);
    s = dismissToast(s, s.visible[1]!.id);
    expect(s.visible.map((t) => t.message)).toEqual(['m0', 'm2', 'm3', 'm4', 'm5']);
    expect(s.waiting).toHaveLength(2);
  });

  it('merges repeats of the same message', () => {
    let s = emptyToasts();
    s = pushToast(s, 'error', 'down');
    s = pushToast(s, 'error', 'down');
    s = pushToast(s, 'info', 'down');
    expect(s.visible).toHaveLength(2);
    expect(s.visible[0]).toMatchObject({ message: 'down', count: 2, kind: 'error' });
  });

  it('keeps errors on screen longer than info', () => {
    const s = pushToast(pushToast(emptyToasts(), 'info', 'a'), 'error', 'b');
    expect(s.visible[1]!.durationMs).toBeGreaterThan(s.visible[0]!.durationMs);
  });
});

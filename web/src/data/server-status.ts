// What the app says when the server's disk fills or frees (`server:status`): one toast per change,
// not one per event, since the server sends the status again on every reconnect.
import type { DiskStatus } from './protocol.js';

export interface DiskNotice {
  kind: 'error' | 'success';
  message: string;
}

/** The toast for a change of disk state, or null when nothing changed. */
export function diskNotice(before: DiskStatus | undefined, now: DiskStatus): DiskNotice | null {
  if (!now.ok && (before === undefined || before.ok)) {
    return { kind: 'error', message: `The server's disk is full: new images wait until space is freed. ${now.message ?? ''}`.trim() };
  }
  if (now.ok && before !== undefined && !before.ok) return { kind: 'success', message: 'Disk space is back: queued images continue.' };
  return null;
}

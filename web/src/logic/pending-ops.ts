// Gallery changes made while offline (favorite, delete), kept until the connection returns and
// then replayed in order. Pure merge rules, so the queue never holds contradictory entries: a later
// favorite toggle replaces an earlier one, and a delete supersedes everything else on that image.

export type PendingOp =
  | { kind: 'favorite'; id: string; favorite: boolean; at: number }
  | { kind: 'delete'; id: string; at: number };

/** Adds `op` to the queue, dropping the entries it makes pointless. */
export function mergeOp(queue: readonly PendingOp[], op: PendingOp): PendingOp[] {
  if (queue.some((q) => q.kind === 'delete' && q.id === op.id)) return [...queue];
  const rest = queue.filter((q) => q.id !== op.id);
  return [...rest, op];
}

/** The favorite flag an image shows while its change is still pending. */
export function effectiveFavorite(queue: readonly PendingOp[], id: string, stored: boolean): boolean {
  for (let i = queue.length - 1; i >= 0; i--) {
    const q = queue[i]!;
    if (q.id === id && q.kind === 'favorite') return q.favorite;
  }
  return stored;
}

/** Ids deleted locally but not yet on the server: hidden from the grid. */
export function pendingDeletes(queue: readonly PendingOp[]): Set<string> {
  return new Set(queue.filter((q) => q.kind === 'delete').map((q) => q.id));
}

/** Groups consecutive deletes into one `delete_images` call (the server takes up to 500 ids). */
export function batchForReplay(queue: readonly PendingOp[], maxIds = 500): ({ kind: 'favorite'; id: string; favorite: boolean } | { kind: 'delete'; ids: string[] })[] {
  const out: ({ kind: 'favorite'; id: string; favorite: boolean } | { kind: 'delete'; ids: string[] })[] = [];
  for (const q of queue) {
    if (q.kind === 'favorite') {
      out.push({ kind: 'favorite', id: q.id, favorite: q.favorite });
      continue;
    }
    const last = out[out.length - 1];
    if (last && last.kind === 'delete' && last.ids.length < maxIds) last.ids.push(q.id);
    else out.push({ kind: 'delete', ids: [q.id] });
  }
  return out;
}

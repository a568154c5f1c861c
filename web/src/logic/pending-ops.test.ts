import { describe, expect, it } from 'vitest';
import { batchForReplay, effectiveFavorite, mergeOp, pendingDeletes, type PendingOp } from './pending-ops.js';

describe('offline gallery operations', () => {
  it('keeps only the latest favorite change per image', () => {
    let q: PendingOp[] = [];
    q = mergeOp(q, { kind: 'favorite', id: 'a', favorite: true, at: 1 });
    q = mergeOp(q, { kind: 'favorite', id: 'b', favorite: true, at: 2 });
    q = mergeOp(q, { kind: 'favorite', id: 'a', favorite: false, at: 3 });
    expect(q).toEqual([
      { kind: 'favorite', id: 'b', favorite: true, at: 2 },
      { kind: 'favorite', id: 'a', favorite: false, at: 3 },
    ]);
    expect(effectiveFavorite(q, 'a', true)).toBe(false);
    expect(effectiveFavorite(q, 'c', true)).toBe(true);
  });

  it('lets a delete supersede favorites and ignores later changes to a deleted image', () => {
    let q: PendingOp[] = [{ kind: 'favorite', id: 'a', favorite: true, at: 1 }];
    q = mergeOp(q, { kind: 'delete', id: 'a', at: 2 });
    q = mergeOp(q, { kind: 'favorite', id: 'a', favorite: false, at: 3 });
    expect(q).toEqual([{ kind: 'delete', id: 'a', at: 2 }]);
    expect(pendingDeletes(q)).toEqual(new Set(['a']));
  });

  it('batches consecutive deletes for replay, in order', () => {
    const q: PendingOp[] = [
      { kind: 'delete', id: 'a', at: 1 },
      { kind: 'delete', id: 'b', at: 2 },
      { kind: 'favorite', id: 'c', favorite: true, at: 3 },
      { kind: 'delete', id: 'd', at: 4 },
      { kind: 'delete', id: 'e', at: 5 },
      { kind: 'delete', id: 'f', at: 6 },
    ];
    expect(batchForReplay(q, 2)).toEqual([
      { kind: 'delete', ids: ['a', 'b'] },
      { kind: 'favorite', id: 'c', favorite: true },
      { kind: 'delete', ids: ['d', 'e'] },
      { kind: 'delete', ids: ['f'] },
    ]);
  });
});

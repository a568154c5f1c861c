import { describe, expect, it } from 'vitest';
import { diskNotice } from './server-status.js';

const ok = { ok: true, free_bytes: 1e9, min_free_bytes: 64 };
const full = { ok: false, free_bytes: 0, min_free_bytes: 64, message: 'only 0 bytes are free' };

describe('diskNotice', () => {
  it('tells once when the disk fills and once when space returns', () => {
    expect(diskNotice(undefined, ok)).toBeNull();
    expect(diskNotice(ok, full)).toMatchObject({ kind: 'error', message: expect.stringContaining('disk is full') });
    expect(diskNotice(undefined, full)?.kind).toBe('error');
    expect(diskNotice(full, full)).toBeNull();
    expect(diskNotice(full, ok)).toMatchObject({ kind: 'success' });
    expect(diskNotice(ok, ok)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { sanitizeFileName } from './gallery-files.js';

describe('sanitizeFileName', () => {
  it('drops folders and replaces unsafe characters', () => {
    expect(sanitizeFileName('../a b:c.png')).toBe('a_b_c.png');
    expect(sanitizeFileName('..\\..\\evil.png')).toBe('evil.png');
  });

  it('strips leading dots so the result is never hidden or relative', () => {
    expect(sanitizeFileName('...hidden')).toBe('hidden');
    expect(sanitizeFileName('..')).toBe('file');
  });

  // Image ids are base64url and may start with "_" or "-"; the zip entry must keep them.
  it('keeps leading underscores and dashes of base64url ids', () => {
    expect(sanitizeFileName('_oxWixsmvZtwrbuP6IFAPg-11.png')).toBe('_oxWixsmvZtwrbuP6IFAPg-11.png');
    expect(sanitizeFileName('-abc-1.png')).toBe('-abc-1.png');
  });
});

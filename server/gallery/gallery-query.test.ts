import { describe, expect, it } from 'vitest';
import { GalleryQuerySchema } from '../protocol/gallery.js';
import { compileQuery, decodeCursor, encodeCursor, ftsQuery } from './gallery-query.js';

describe('ftsQuery', () => {
  it('turns words into quoted prefix terms and drops punctuation-only tokens', () => {
    expect(ftsQuery('red  cat')).toBe('"red"* "cat"*');
    expect(ftsQuery('say "hi" , :')).toBe('"say"* """hi"""*');
    expect(ftsQuery(' ,; ')).toBeUndefined();
  });
});

describe('cursor', () => {
  it('round-trips and rejects junk', () => {
    const c = { createdAt: 1767225600123, id: 'abc_-9' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(() => decodeCursor('%%%')).toThrow(expect.objectContaining({ code: 'invalid_params' }));
    expect(() => decodeCursor(Buffer.from('[1.5,"x"]').toString('base64url'))).toThrow(expect.objectContaining({ field: 'cursor' }));
  });
});

describe('compileQuery', () => {
  it('binds every filter as a parameter and bounds the page', () => {
    const { sql, params, limit } = compileQuery(
      GalleryQuerySchema.parse({ task: "x' OR 1=1 --", min_width: '64', date_to: '2026-01-31', limit: 10 }),
      'id',
    );
    expect(sql).not.toContain("OR 1=1");
    expect(params).toEqual(["x' OR 1=1 --", Date.parse('2026-02-01T00:00:00Z'), 64]);
    expect(sql.endsWith('LIMIT 11')).toBe(true);
    expect(limit).toBe(10);
  });
});

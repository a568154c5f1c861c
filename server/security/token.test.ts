import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateToken, tokenFromAuthorization, tokensEqual, urlSigningSecret } from './token.js';

describe('token', () => {
  it('creates the token file once with mode 0600, then reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'easel-token-'));
    try {
      const first = loadOrCreateToken(dir);
      expect(first.created).toBe(true);
      expect(first.token.length).toBeGreaterThanOrEqual(32);
      expect(statSync(join(dir, 'auth-token')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'auth-token'), 'utf8').trim()).toBe(first.token);
      expect(loadOrCreateToken(dir)).toEqual({ token: first.token, created: false });
      expect(loadOrCreateToken(dir, 'override-token')).toEqual({ token: 'override-token', created: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares tokens exactly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('abc ', 'abc')).toBe(false);
    expect(tokensEqual(undefined, 'abc')).toBe(false);
  });

  it('reads Bearer and Basic (any user, token as password)', () => {
    expect(tokenFromAuthorization('Bearer t0k')).toBe('t0k');
    expect(tokenFromAuthorization('Basic ' + Buffer.from('user:t0k:with:colons').toString('base64'))).toBe('t0k:with:colons');
    expect(tokenFromAuthorization('Basic ' + Buffer.from('nocolon').toString('base64'))).toBeUndefined();
    expect(tokenFromAuthorization('Digest x')).toBeUndefined();
    expect(tokenFromAuthorization(undefined)).toBeUndefined();
  });

  it('derives a signing secret that changes with the token', () => {
    expect(urlSigningSecret('a')).not.toBe(urlSigningSecret('b'));
    expect(urlSigningSecret('a')).not.toContain('a'.repeat(2));
    expect(urlSigningSecret('a')).toMatch(/^[0-9a-f]{64}$/);
  });
});

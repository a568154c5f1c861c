import { describe, expect, it } from 'vitest';
import { DEFAULT_URL_TTL_S, UrlSigner } from './signed-url.js';

function parts(url: string): { path: string; exp: string; sig: string } {
  const u = new URL(url, 'http://x');
  return { path: u.pathname, exp: u.searchParams.get('exp')!, sig: u.searchParams.get('sig')! };
}

describe('UrlSigner', () => {
  it('accepts its own signature for the same path until expiry, at least the TTL ahead', () => {
    let now = Date.UTC(2026, 0, 1, 12, 30);
    const signer = new UrlSigner('secret', { now: () => now });
    const { path, exp, sig } = parts(signer.sign('/files/images/abc'));
    expect(path).toBe('/files/images/abc');
    expect(Number(exp) * 1000).toBeGreaterThanOrEqual(now + DEFAULT_URL_TTL_S * 1000);
    expect(signer.verify(path, exp, sig)).toBe(true);
    now = Number(exp) * 1000 - 1;
    expect(signer.verify(path, exp, sig)).toBe(true);
    now = Number(exp) * 1000;
    expect(signer.verify(path, exp, sig)).toBe(false);
  });

  it('gives the same URL within the expiry step, so caches can reuse it', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 1);
    const signer = new UrlSigner('secret', { now: () => now });
    const a = signer.sign('/files/thumbs/x');
    now += 10 * 60 * 1000;
    expect(signer.sign('/files/thumbs/x')).toBe(a);
  });

  it('rejects tampered paths, expiries, signatures, other secrets and missing parts', () => {
    const signer = new UrlSigner('secret');
    const { path, exp, sig } = parts(signer.sign('/files/images/abc', 60));
    expect(signer.verify('/files/images/abd', exp, sig)).toBe(false);
    expect(signer.verify('/files/thumbs/abc', exp, sig)).toBe(false);
    expect(signer.verify(path, String(Number(exp) + 3600), sig)).toBe(false);
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(signer.verify(path, exp, flipped)).toBe(false);
    expect(new UrlSigner('other').verify(path, exp, sig)).toBe(false);
    expect(signer.verify(path, undefined, sig)).toBe(false);
    expect(signer.verify(path, exp, undefined)).toBe(false);
    expect(signer.verify(path, exp, sig.slice(0, 20))).toBe(false);
    expect(signer.verify(path, '1e12', sig)).toBe(false);
  });
});

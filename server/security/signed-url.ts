// Signed file URLs: `/files/...` routes are not behind the API token (an <img> cannot send one), so
// the URL itself is the credential. HMAC-SHA256 over path + expiry, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_URL_TTL_S = 24 * 60 * 60;
/**
 * Expiries are rounded up to this step so the same image gets the same URL for a while and the
 * browser cache (and the web app's IndexedDB) can reuse it.
 */
const EXPIRY_STEP_S = 60 * 60;
const SIG_BYTES = 32;

export class UrlSigner {
  private readonly key: Buffer;
  private readonly now: () => number;

  /** `now` (ms) is injectable for tests of expiry; production uses the clock. */
  constructor(secret: string, opts: { now?: () => number } = {}) {
    if (secret.length === 0) throw new Error('UrlSigner needs a non-empty secret');
    this.key = Buffer.from(secret, 'utf8');
    this.now = opts.now ?? Date.now;
  }

  private mac(path: string, exp: string): Buffer {
    return createHmac('sha256', this.key).update(`${path}\n${exp}`).digest();
  }

  /**
   * `path?exp=<unix s>&sig=<base64url>`, valid for at least `ttlSeconds`.
   *
   * @example signer.sign('/files/images/abc') // '/files/images/abc?exp=1763769600&sig=...'
   */
  sign(path: string, ttlSeconds: number = DEFAULT_URL_TTL_S): string {
    const nowS = Math.floor(this.now() / 1000);
    const exp = String(Math.ceil((nowS + ttlSeconds) / EXPIRY_STEP_S) * EXPIRY_STEP_S);
    const sig = this.mac(path, exp).toString('base64url');
    return `${path}?exp=${exp}&sig=${sig}`;
  }

  /** True only for an unexpired, untampered signature of exactly this path. */
  verify(path: string, exp: string | undefined, sig: string | undefined): boolean {
    if (exp === undefined || sig === undefined || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return false;
    if (Number(exp) * 1000 <= this.now()) return false;
    const given = Buffer.from(sig, 'base64url');
    const expected = this.mac(path, exp);
    return given.length === SIG_BYTES && timingSafeEqual(given, expected);
  }
}

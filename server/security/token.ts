// The access token: generated on first start into `$DATA_DIR/auth-token` (mode 0600) unless
// AUTH_TOKEN is set, compared in constant time, and the key for signed image URLs derived from it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'auth-token';

/**
 * Returns the token to use: `override` when given, else the one stored in the data folder, else a
 * new random one written there atomically with mode 0600.
 */
export function loadOrCreateToken(dataDir: string, override?: string): { token: string; created: boolean } {
  if (override) return { token: override, created: false };
  const file = join(dataDir, TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { token, created: true };
}

/** Constant-time comparison (hashing first makes both sides the same length). */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The HMAC key for signed file URLs: tied to the token, so rotating the token revokes every URL. */
export function urlSigningSecret(token: string): string {
  return createHash('sha256').update('easel-url-signing:' + token).digest('hex');
}

/**
 * Reads a token from `Authorization: Bearer <token>` or HTTP Basic (any user, the token as the
 * password, which is how A1111 clients send `--api-auth`).
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2) as [string, string | undefined];
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

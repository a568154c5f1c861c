// Drive credentials: an OAuth client (installed-app flow with PKCE, "paste the code", which works
// from a phone even when the server sits behind a changing tunnel URL) whose refresh token is kept
// in DATA_DIR/drive-token.json (mode 0600, never sent to clients, never logged), or a
// service-account key file. The OAuth2/JWT classes come from the google-auth-library copy that
// @googleapis/drive re-exports, so their types match the ones the Drive client accepts.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auth as googleAuth } from '@googleapis/drive';
import { EaselError } from '../protocol/errors.js';

export type DriveAuthClient = InstanceType<typeof googleAuth.OAuth2>;
export type DriveAuthKind = 'oauth' | 'service_account';

/** Only files this app created: enough for backup and restore, and no access to the rest of the Drive. */
export const DRIVE_SCOPE = 'https://www.googleapis.com/auth/drive.file';
export const TOKEN_FILE = 'drive-token.json';
/** A started consent flow is forgotten after this long. */
const PENDING_FLOW_MS = 15 * 60 * 1000;
type AuthUrlOptions = NonNullable<Parameters<DriveAuthClient['generateAuthUrl']>[0]>;
/** The library types the method as its own string enum, which it does not export to us. */
const S256 = 'S256' as AuthUrlOptions['code_challenge_method'];

export interface DriveAuthOptions {
  dataDir: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  redirectUri: string;
  /** Path of a service-account JSON key; wins over the OAuth client. */
  serviceAccountKey?: string | undefined;
  /** OAuth token endpoint (the fake one in tests). */
  tokenUrl?: string;
}

interface StoredToken {
  refresh_token: string;
  scope?: string;
  saved_at: string;
}

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
}

/**
 * Pulls the authorization code out of what the user pasted: the bare code, or the whole URL the
 * consent page redirected to (`http://localhost/?code=4/0A...&scope=...`).
 */
export function extractAuthCode(pasted: string): string {
  const text = pasted.trim();
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new EaselError('invalid_params', 'the pasted text is not a valid URL', { field: 'code' });
    }
    const error = url.searchParams.get('error');
    if (error) throw new EaselError('drive_auth_failed', `Google answered "${error}": the access was not granted`, { field: 'code' });
    const code = url.searchParams.get('code');
    if (!code) throw new EaselError('invalid_params', 'the pasted URL has no "code" parameter', { field: 'code' });
    return code;
  }
  if (!/^[\w./~+-]+$/.test(text)) throw new EaselError('invalid_params', 'the code has unexpected characters; paste the code or the whole URL', { field: 'code' });
  return text;
}

function readServiceAccountKey(path: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EaselError('drive_not_configured', `cannot read the service-account key ${path}: ${(err as Error).message}`);
  }
  const k = parsed as Partial<ServiceAccountKey> & { type?: string };
  if (k.type !== 'service_account' || typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new EaselError('drive_not_configured', `${path} is not a service-account key (needs type "service_account", client_email and private_key)`);
  }
  return { client_email: k.client_email, private_key: k.private_key };
}

export class DriveAuth {
  private readonly opts: DriveAuthOptions;
  private readonly tokenPath: string;
  private current: DriveAuthClient | undefined;
  private pending: { verifier: string; state: string; at: number } | undefined;
  private serviceEmail: string | undefined;

  constructor(opts: DriveAuthOptions) {
    this.opts = opts;
    this.tokenPath = join(opts.dataDir, TOKEN_FILE);
  }

  /** Which credentials the server is set up for; null when Drive backup is not configured. */
  get kind(): DriveAuthKind | null {
    if (this.opts.serviceAccountKey) return 'service_account';
    if (this.opts.clientId && this.opts.clientSecret) return 'oauth';
    return null;
  }

  get connected(): boolean {
    if (this.kind === 'service_account') return true;
    return this.kind === 'oauth' && existsSync(this.tokenPath);
  }

  /** The service account's e-mail (share the backup folder with it), once the key was read. */
  get serviceAccountEmail(): string | undefined {
    return this.serviceEmail;
  }

  private oauthClient(): DriveAuthClient {
    if (this.kind !== 'oauth') throw new EaselError('drive_not_configured', 'no OAuth client is configured: set DRIVE_CLIENT_ID and DRIVE_CLIENT_SECRET');
    return new googleAuth.OAuth2({
      clientId: this.opts.clientId,
      clientSecret: this.opts.clientSecret,
      redirectUri: this.opts.redirectUri,
      ...(this.opts.tokenUrl ? { endpoints: { oauth2TokenUrl: this.opts.tokenUrl } } : {}),
    });
  }

  /**
   * Starts the consent flow: returns the URL to open. After approving, the browser lands on the
   * redirect URI (by default http://localhost, which shows an error page on a phone): the user
   * copies that page's address (or just its `code`) back into Easel.
   */
  async startConnect(): Promise<string> {
    const client = this.oauthClient();
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const state = randomBytes(16).toString('hex');
    this.pending = { verifier: codeVerifier, state, at: Date.now() };
    return client.generateAuthUrl({
      access_type: 'offline',
      // `consent` makes Google issue a refresh token even when the app was approved before.
      prompt: 'consent',
      scope: [DRIVE_SCOPE],
      state,
      code_challenge: codeChallenge,
      code_challenge_method: S256,
    });
  }

  /** Exchanges the pasted code for tokens and stores the refresh token. */
  async finishConnect(pasted: string): Promise<void> {
    const code = extractAuthCode(pasted);
    const pasteState = /^https?:\/\//i.test(pasted.trim()) ? new URL(pasted.trim()).searchParams.get('state') : null;
    const pending = this.pending && Date.now() - this.pending.at < PENDING_FLOW_MS ? this.pending : undefined;
    if (!pending) throw new EaselError('drive_auth_failed', 'no Drive connection was started (or it expired): press Connect again');
    if (pasteState !== null && pasteState !== pending.state) throw new EaselError('drive_auth_failed', 'this code belongs to another connection attempt: press Connect again');
    const client = this.oauthClient();
    let tokens: { refresh_token?: string | null; scope?: string | null; access_token?: string | null; expiry_date?: number | null };
    try {
      ({ tokens } = await client.getToken({ code, codeVerifier: pending.verifier }));
    } catch (err) {
      const data = (err as { response?: { data?: { error?: string; error_description?: string } } }).response?.data;
      const why = data?.error_description ?? data?.error ?? (err as Error).message;
      throw new EaselError('drive_auth_failed', `Google did not accept the code (${why}); press Connect again`);
    }
    if (!tokens.refresh_token) throw new EaselError('drive_auth_failed', 'Google sent no refresh token; remove Easel from your account\'s third-party access and connect again');
    await this.saveToken({ refresh_token: tokens.refresh_token, ...(tokens.scope ? { scope: tokens.scope } : {}), saved_at: new Date().toISOString() });
    this.pending = undefined;
    client.setCredentials({ refresh_token: tokens.refresh_token, access_token: tokens.access_token ?? null, expiry_date: tokens.expiry_date ?? null });
    this.current = client;
  }

  /** Written to a temp file created 0600 and renamed, so the token is never readable by others, not even briefly. */
  private async saveToken(token: StoredToken): Promise<void> {
    const tmp = `${this.tokenPath}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(token), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.tokenPath);
  }

  /** The authenticated client for Drive calls; throws drive_not_connected / drive_not_configured. */
  async client(): Promise<DriveAuthClient> {
    if (this.current) return this.current;
    const kind = this.kind;
    if (kind === null) throw new EaselError('drive_not_configured', 'Drive backup is not configured on the server (see README: Google Drive backup)');
    if (kind === 'service_account') {
      const key = readServiceAccountKey(this.opts.serviceAccountKey!);
      this.serviceEmail = key.client_email;
      this.current = new googleAuth.JWT({ email: key.client_email, key: key.private_key, scopes: [DRIVE_SCOPE] });
      return this.current;
    }
    let stored: StoredToken;
    try {
      stored = JSON.parse(await readFile(this.tokenPath, 'utf8')) as StoredToken;
    } catch {
      throw new EaselError('drive_not_connected', 'Drive is not connected: use Connect in Settings');
    }
    if (typeof stored.refresh_token !== 'string' || stored.refresh_token === '') throw new EaselError('drive_not_connected', 'the stored Drive token is unreadable: connect Drive again');
    const client = this.oauthClient();
    client.setCredentials({ refresh_token: stored.refresh_token });
    this.current = client;
    return client;
  }

  /** Drops the access token so the next request fetches a fresh one (the 401 path of retry.ts). */
  async forceRefresh(): Promise<void> {
    const client = await this.client();
    if (this.kind === 'service_account') {
      client.credentials = {};
      return;
    }
    await client.refreshAccessToken();
  }

  /** Forgets the refresh token (the file is deleted). Revoking it at Google is left to the account page. */
  async disconnect(): Promise<void> {
    this.current = undefined;
    this.pending = undefined;
    await unlink(this.tokenPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

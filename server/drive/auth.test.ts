import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriveAuth, DRIVE_SCOPE, extractAuthCode, TOKEN_FILE } from './auth.js';
import { FakeDrive } from './test/fake-drive.js';
import { CLIENT, connectOAuth, oauthFor } from './test/helpers.js';

let dir: string;
let fake: FakeDrive;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-drive-auth-'));
  fake = await new FakeDrive().start();
});
afterEach(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('extractAuthCode', () => {
  it('takes the code from a pasted redirect URL or as it is', () => {
    expect(extractAuthCode('http://localhost/?state=abc&code=4%2F0AbC-d_e&scope=x')).toBe('4/0AbC-d_e');
    expect(extractAuthCode('  4/0AbC-d_e \n')).toBe('4/0AbC-d_e');
  });

  it('explains what is wrong with the paste', () => {
    expect(() => extractAuthCode('http://localhost/?error=access_denied')).toThrow(expect.objectContaining({ code: 'drive_auth_failed' }));
    expect(() => extractAuthCode('http://localhost/?state=1')).toThrow(/no "code" parameter/);
    expect(() => extractAuthCode('<script>')).toThrow(expect.objectContaining({ code: 'invalid_params', field: 'code' }));
  });
});

describe('DriveAuth (OAuth)', () => {
  it('builds a consent URL for drive.file with offline access and PKCE', async () => {
    const auth = oauthFor(fake, dir);
    const url = new URL(await auth.startConnect());
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(url.searchParams.get('client_id')).toBe(CLIENT.clientId);
    expect(url.searchParams.get('scope')).toBe(DRIVE_SCOPE);
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toBe('http://localhost');
  });

  it('exchanges the code, keeps the refresh token in a 0600 file and uses it after a restart', async () => {
    const auth = oauthFor(fake, dir);
    expect(auth.connected).toBe(false);
    await connectOAuth(auth, fake);
    expect(auth.connected).toBe(true);
    const file = join(dir, TOKEN_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { refresh_token: string };
    expect(fake.refreshTokens.has(stored.refresh_token)).toBe(true);
    // The PKCE verifier went with the code (the fake checks it against the challenge).
    expect(fake.tokenRequests[0]).toMatchObject({ grant_type: 'authorization_code', client_id: CLIENT.clientId });
    expect(fake.tokenRequests[0]!['code_verifier']).toBeTruthy();

    const restarted = oauthFor(fake, dir);
    const client = await restarted.client();
    const { token } = await client.getAccessToken();
    expect(token && fake.accessTokens.has(token)).toBe(true);
    expect(fake.tokenRequests.at(-1)).toMatchObject({ grant_type: 'refresh_token', refresh_token: stored.refresh_token });
  });

  it('refuses a code Google does not accept, a code from another attempt, and a paste without a started flow', async () => {
    const auth = oauthFor(fake, dir);
    await expect(auth.finishConnect('4/whatever')).rejects.toMatchObject({ code: 'drive_auth_failed', message: expect.stringContaining('press Connect') });
    await auth.startConnect();
    await expect(auth.finishConnect('4/not-issued')).rejects.toMatchObject({ code: 'drive_auth_failed', message: expect.stringContaining('invalid_grant') });
    await auth.startConnect();
    await expect(auth.finishConnect(`http://localhost/?state=other&code=${fake.issueCode()}`)).rejects.toMatchObject({ code: 'drive_auth_failed' });
    expect(existsSync(join(dir, TOKEN_FILE))).toBe(false);
  });

  it('disconnect forgets the token', async () => {
    const auth = oauthFor(fake, dir);
    await connectOAuth(auth, fake);
    await auth.disconnect();
    expect(auth.connected).toBe(false);
    expect(existsSync(join(dir, TOKEN_FILE))).toBe(false);
    await expect(auth.client()).rejects.toMatchObject({ code: 'drive_not_connected' });
  });

  it('is not configured without a client id and secret', async () => {
    const auth = new DriveAuth({ dataDir: dir, redirectUri: 'http://localhost' });
    expect(auth.kind).toBeNull();
    await expect(auth.client()).rejects.toMatchObject({ code: 'drive_not_configured' });
    await expect(auth.startConnect()).rejects.toMatchObject({ code: 'drive_not_configured' });
  });
});

describe('DriveAuth (service account)', () => {
  it('reads the key file and signs in as the service account', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyFile = join(dir, 'sa.json');
    await writeFile(keyFile, JSON.stringify({ type: 'service_account', client_email: 'easel@proj.iam.gserviceaccount.com', private_key: privateKey }));
    const auth = new DriveAuth({ dataDir: dir, redirectUri: 'http://localhost', serviceAccountKey: keyFile, ...CLIENT });
    expect(auth.kind).toBe('service_account');
    expect(auth.connected).toBe(true);
    const client = (await auth.client()) as unknown as { email?: string; scopes?: string | string[] };
    expect(client.email).toBe('easel@proj.iam.gserviceaccount.com');
    expect(client.scopes).toEqual([DRIVE_SCOPE]);
    expect(auth.serviceAccountEmail).toBe('easel@proj.iam.gserviceaccount.com');
  });

  it('names what is wrong with a bad key file', async () => {
    const keyFile = join(dir, 'sa.json');
    await writeFile(keyFile, JSON.stringify({ type: 'authorized_user' }));
    const auth = new DriveAuth({ dataDir: dir, redirectUri: 'http://localhost', serviceAccountKey: keyFile });
    await expect(auth.client()).rejects.toMatchObject({ code: 'drive_not_configured', message: expect.stringContaining('not a service-account key') });
    const missing = new DriveAuth({ dataDir: dir, redirectUri: 'http://localhost', serviceAccountKey: join(dir, 'nope.json') });
    await expect(missing.client()).rejects.toMatchObject({ code: 'drive_not_configured', message: expect.stringContaining('cannot read') });
  });
});

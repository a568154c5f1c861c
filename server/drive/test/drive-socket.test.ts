// Drive backup through the whole server (startServer, real Socket.IO client, fake engine worker,
// fake Drive): connect with the pasted redirect URL, a generated image becomes pending and a
// manual sync uploads it, `drive:status` reaches the client, and the refresh token never appears
// in an event or an ack while its file stays 0600.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriveStatusEvent } from '../../protocol/events.js';
import { GalleryQuerySchema } from '../../protocol/gallery.js';
import { call, collect, connect, startTestServer, waitFor, type AnySocket, type TestServer } from '../../test/helpers.js';
import { TOKEN_FILE } from '../auth.js';
import { FakeDrive } from './fake-drive.js';
import { CLIENT } from './helpers.js';

let server: TestServer | undefined;
let socket: AnySocket | undefined;
let fake: FakeDrive | undefined;
afterEach(async () => {
  socket?.close();
  await server?.dispose();
  await fake?.stop();
  server = socket = fake = undefined;
});

/** A fake Drive, a server whose Drive client points at it, and a connected socket. */
async function startWithFakeDrive(): Promise<{ fake: FakeDrive; server: TestServer; socket: AnySocket }> {
  const fake = await new FakeDrive().start();
  const server = await startTestServer({
    DRIVE_CLIENT_ID: CLIENT.clientId,
    DRIVE_CLIENT_SECRET: CLIENT.clientSecret,
    DRIVE_API_ROOT: fake.url,
    DRIVE_TOKEN_URL: fake.tokenUrl,
    DRIVE_RETRY_BASE_MS: '1',
  });
  return { fake, server, socket: await connect(server.url, { token: server.token }) };
}

describe('drive over the socket', () => {
  it('connects, reports pending images, syncs on request and never leaks the refresh token', async () => {
    ({ fake, server, socket } = await startWithFakeDrive());
    const events = collect<DriveStatusEvent>(socket, 'drive:status');
    const acks: unknown[] = [];
    const ask = async (action: string, payload: unknown = {}) => {
      const ack = await call(socket!, action, payload);
      acks.push(ack);
      return ack;
    };

    const first = await ask('drive_status');
    expect(first).toMatchObject({ ok: true, status: { state: 'disconnected', auth: null, pending: 0, last_sync_at: null } });
    expect(await ask('drive_sync')).toMatchObject({ ok: false, error: { code: 'drive_not_connected' } });

    const started = await ask('drive_connect');
    expect(started.ok).toBe(true);
    const consent = new URL(started['auth_url'] as string);
    const code = fake.issueCode(consent.searchParams.get('code_challenge')!);
    const done = await ask('drive_connect', { code: `http://localhost/?state=${consent.searchParams.get('state')}&code=${encodeURIComponent(code)}&scope=x` });
    expect(done).toMatchObject({ ok: true, status: { auth: 'oauth' } });

    const gen = await ask('generate', { prompt: 'a red fox', steps: 2, width: 64, height: 64, seed: 5 });
    expect(gen.ok).toBe(true);
    await waitFor<DriveStatusEvent>(socket, 'drive:status', (e) => e.pending === 1);

    const sync = await ask('drive_sync');
    expect(sync).toMatchObject({ ok: true });
    await waitFor<DriveStatusEvent>(socket, 'drive:status', (e) => e.state === 'connected' && e.pending === 0 && e.last_sync_at !== null);
    expect(fake.uploads()).toHaveLength(1);
    const image = server.gallery.list(GalleryQuerySchema.parse({})).items[0]!;
    expect(fake.uploads()[0]!.appProperties?.['easel_id']).toBe(image.id);
    expect(fake.uploads()[0]!.description).toBe(image.infotext);
    expect(events.some((e) => e.state === 'syncing')).toBe(true);

    const tokenFile = join(server.dataDir, TOKEN_FILE);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const refresh = (JSON.parse(await readFile(tokenFile, 'utf8')) as { refresh_token: string }).refresh_token;
    expect(refresh.length).toBeGreaterThan(10);
    const wire = JSON.stringify([events, acks]);
    expect(wire).not.toContain(refresh);
    for (const access of fake.accessTokens) expect(wire).not.toContain(access);

    const off = await ask('drive_disconnect');
    expect(off).toMatchObject({ ok: true, status: { state: 'disconnected', auth: null } });
  });

  it('update_image and delete_images after the upload reach Drive at the next sync', async () => {
    ({ fake, server, socket } = await startWithFakeDrive());
    const started = await call(socket, 'drive_connect', {});
    const consent = new URL(started['auth_url'] as string);
    const code = fake.issueCode(consent.searchParams.get('code_challenge')!);
    expect(await call(socket, 'drive_connect', { code: `http://localhost/?state=${consent.searchParams.get('state')}&code=${encodeURIComponent(code)}` })).toMatchObject({ ok: true });
    for (const seed of [1, 2]) expect(await call(socket, 'generate', { prompt: 'a red fox', steps: 2, width: 64, height: 64, seed })).toMatchObject({ ok: true });
    await waitFor<DriveStatusEvent>(socket, 'drive:status', (e) => e.pending === 2);
    expect(await call(socket, 'drive_sync', {})).toMatchObject({ ok: true });
    await waitFor<DriveStatusEvent>(socket, 'drive:status', (e) => e.state === 'connected' && e.pending === 0 && e.last_sync_at !== null);
    expect(fake.uploads()).toHaveLength(2);

    const [kept, gone] = server.gallery.list(GalleryQuerySchema.parse({})).items.map((r) => r.id) as [string, string];
    expect(await call(socket, 'update_image', { id: kept, favorite: true })).toMatchObject({ ok: true });
    expect(await call(socket, 'delete_images', { ids: [gone] })).toMatchObject({ ok: true, deleted: [gone] });
    expect(await call(socket, 'drive_status', {})).toMatchObject({ ok: true, status: { pending: 2 } });
    expect(await call(socket, 'drive_sync', {})).toMatchObject({ ok: true });
    await waitFor<DriveStatusEvent>(socket, 'drive:status', (e) => e.state === 'connected' && e.pending === 0);
    const copy = (id: string) => fake!.uploads().find((f) => f.appProperties?.['easel_id'] === id)!;
    expect(copy(kept).appProperties!['favorite']).toBe('1');
    expect(copy(gone).appProperties!['easel_deleted']).toBe('1');
    expect(fake.uploads()).toHaveLength(2);
  });

  it('answers drive_not_configured when no credentials are set', async () => {
    server = await startTestServer();
    socket = await connect(server.url, { token: server.token });
    expect(await call(socket, 'drive_status', {})).toMatchObject({ ok: true, status: { state: 'disabled' } });
    expect(await call(socket, 'drive_connect', {})).toMatchObject({ ok: false, error: { code: 'drive_not_configured' } });
    expect(await call(socket, 'drive_restore', {})).toMatchObject({ ok: false, error: { code: 'drive_not_configured' } });
    expect(await call(socket, 'drive_connect', { code: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_params', field: 'code' } });
  });
});

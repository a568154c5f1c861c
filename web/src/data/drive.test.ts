// Drive data layer: the status words and buttons (pure), and DriveTracker against a real
// Socket.IO server that answers the drive_* actions and pushes drive:status.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionManager } from './connection.js';
import { driveButtons, driveTracker, looksLikeAuthPaste, relativeTime, summarizeDrive, type DriveStatus } from './drive.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const base: DriveStatus = { state: 'connected', auth: 'oauth', pending: 0, last_sync_at: '2026-11-21T11:55:00Z', last_error: null, restore: null };

describe('drive status words', () => {
  it('says how long ago', () => {
    expect(relativeTime(null, NOW)).toBe('never');
    expect(relativeTime('2026-11-21T11:59:30Z', NOW)).toBe('just now');
    expect(relativeTime('2026-11-21T11:55:00Z', NOW)).toBe('5 min ago');
    expect(relativeTime('2026-11-21T09:00:00Z', NOW)).toBe('3 h ago');
    expect(relativeTime('2026-11-19T12:00:00Z', NOW)).toBe('2 days ago');
    expect(relativeTime('2026-11-21T12:10:00Z', NOW)).toBe('just now');
  });

  it('summarizes each state', () => {
    expect(summarizeDrive(base, NOW)).toEqual({ label: 'Backed up', tone: 'ok', detail: 'Everything is on Drive; last sync 5 min ago.' });
    expect(summarizeDrive({ ...base, pending: 3 }, NOW)).toMatchObject({ label: '3 waiting', tone: 'warn' });
    expect(summarizeDrive({ ...base, state: 'syncing', pending: 1 }, NOW)).toMatchObject({ label: 'Syncing', tone: 'busy', detail: 'Uploading to Drive: 1 image waiting.' });
    expect(summarizeDrive({ ...base, state: 'restoring', restore: { state: 'running', total: 10, done: 4, added: 2 } }, NOW).detail).toBe('Restoring from Drive: 4 of 10 checked, 2 added.');
    const err = summarizeDrive({ ...base, state: 'error', pending: 2, last_error: { code: 'drive_forbidden', message: 'Drive refused the request.', at: '2026-11-21T11:59:00Z' } }, NOW);
    expect(err).toMatchObject({ label: '2 waiting', tone: 'error' });
    expect(err.detail).toContain('Drive refused the request.');
    expect(summarizeDrive({ ...base, state: 'disabled', auth: null }, NOW).tone).toBe('off');
    expect(summarizeDrive({ ...base, state: 'disconnected', auth: null }, NOW).label).toBe('Not connected');
    expect(summarizeDrive(null, NOW).tone).toBe('off');
  });

  it('offers the buttons that make sense', () => {
    expect(driveButtons(base, true)).toEqual({ connect: false, sync: true, restore: true, disconnect: true });
    expect(driveButtons(base, false)).toEqual({ connect: false, sync: false, restore: false, disconnect: false });
    expect(driveButtons({ ...base, state: 'syncing' }, true)).toEqual({ connect: false, sync: false, restore: false, disconnect: false });
    expect(driveButtons({ ...base, state: 'disconnected', auth: null }, true)).toEqual({ connect: true, sync: false, restore: false, disconnect: false });
    expect(driveButtons({ ...base, auth: 'service_account' }, true).disconnect).toBe(false);
    expect(driveButtons({ ...base, state: 'error' }, true).sync).toBe(true);
    expect(driveButtons(null, true)).toEqual({ connect: false, sync: false, restore: false, disconnect: false });
  });

  it('recognizes a pasted redirect URL or code', () => {
    expect(looksLikeAuthPaste('http://localhost/?state=1&code=4%2F0Ab')).toBe(true);
    expect(looksLikeAuthPaste('http://localhost/?error=access_denied')).toBe(false);
    expect(looksLikeAuthPaste(' 4/0AeanS0abcdefghij ')).toBe(true);
    expect(looksLikeAuthPaste('hello')).toBe(false);
  });
});

describe('DriveTracker', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(handlers: Record<string, (socket: Socket, payload: unknown, ack: (r: unknown) => void) => void>) {
    const http = createServer();
    const io = new Server(http);
    const sockets: Socket[] = [];
    io.on('connection', (socket) => {
      sockets.push(socket);
      for (const [name, h] of Object.entries(handlers)) socket.on(name, (p: unknown, ack: (r: unknown) => void) => h(socket, p, ack));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => (io.close(), http.close(() => r()))));
    const conn = new ConnectionManager({ reconnectDelayMs: 100 });
    cleanups.push(() => conn.close());
    const tracker = driveTracker(conn);
    conn.configure({ serverUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: 't', clientId: 'c' });
    await expect.poll(() => conn.state).toBe('connected');
    return { conn, tracker, sockets };
  }

  it('fetches the status on connect, follows pushes, and runs the connect flow', async () => {
    let connected = false;
    const payloads: unknown[] = [];
    const status = (): DriveStatus => (connected ? base : { ...base, state: 'disconnected', auth: null, pending: 2 });
    const { conn, tracker, sockets } = await setup({
      drive_status: (_s, _p, ack) => ack({ ok: true, status: status() }),
      drive_connect: (_s, p, ack) => {
        payloads.push(p);
        const code = (p as { code?: string }).code;
        if (code === undefined) return ack({ ok: true, status: status(), auth_url: 'https://accounts.google.com/o/oauth2/v2/auth?x=1' });
        if (!code.includes('good')) return ack({ ok: false, error: { code: 'drive_auth_failed', message: 'Google did not accept the code' } });
        connected = true;
        ack({ ok: true, status: status() });
      },
      drive_sync: (s, _p, ack) => {
        ack({ ok: true, status: { ...base, state: 'syncing', pending: 1 }, started: true });
        setTimeout(() => s.emit('drive:status', { ...base, last_sync_at: '2026-11-21T12:00:00Z' }), 20);
      },
    });
    expect(driveTracker(conn)).toBe(tracker);
    await expect.poll(() => tracker.status?.state).toBe('disconnected');
    expect(tracker.status?.pending).toBe(2);

    expect(await tracker.startConnect()).toMatch(/^https:\/\/accounts\.google\.com\//);
    await expect(tracker.finishConnect('http://localhost/?code=bad')).rejects.toMatchObject({ code: 'drive_auth_failed' });
    const after = await tracker.finishConnect('  http://localhost/?code=good  ');
    expect(after.state).toBe('connected');
    expect(payloads).toEqual([{}, { code: 'http://localhost/?code=bad' }, { code: 'http://localhost/?code=good' }]);

    let changes = 0;
    tracker.addEventListener('change', () => changes++);
    expect(await tracker.sync()).toBe(true);
    expect(tracker.status?.state).toBe('syncing');
    await expect.poll(() => tracker.status?.last_sync_at).toBe('2026-11-21T12:00:00Z');
    expect(changes).toBe(2);

    // A push from the server lands without any call.
    sockets[0]!.emit('drive:status', { ...base, state: 'error', last_error: { code: 'drive_unavailable', message: 'x', at: '2026-11-21T12:01:00Z' } });
    await expect.poll(() => tracker.status?.state).toBe('error');
  });
});

// Fault: the disk holding DATA_DIR fills up. Where the test runs as root and can mount, DATA_DIR is
// a real 3 MiB tmpfs that is filled to the last byte; elsewhere ENOSPC is injected into the file
// writes and the free-space reading (the mode is printed, never skipped). Either way: the job
// fails with insufficient_space, the server stays up, /api/health and `server:status` say so, new
// work is refused with that code, and once space returns work resumes; the database passes
// PRAGMA integrity_check and no file or row is orphaned.
import { execFileSync } from 'node:child_process';
import fs, { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, collect, connect, startTestServer, tempDir, waitFor, type AnySocket, type TestServer } from '../helpers.js';

type Mode = 'tmpfs' | 'injected';

function tryMountTmpfs(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the filesystem of `dir` to the last byte; returns the filler's path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = chunk.length; size >= 1; ) {
      try {
        fs.writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

/** ENOSPC for every file opened for writing under `dir` while `on()` (the injected mode). */
function injectEnospc(dir: string, on: () => boolean): () => void {
  const promises = fs.promises as { open: typeof fs.promises.open };
  const original = promises.open;
  promises.open = ((path: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
    const writing = typeof flags === 'string' ? /[wa+]/.test(flags) : flags !== undefined;
    if (on() && writing && String(path).startsWith(dir)) {
      return Promise.reject(Object.assign(new Error(`ENOSPC: no space left on device, open '${String(path)}'`), { code: 'ENOSPC', errno: -28, syscall: 'open' }));
    }
    return original(path, flags, mode);
  }) as typeof fs.promises.open;
  syncBuiltinESMExports();
  return () => {
    promises.open = original;
    syncBuiltinESMExports();
  };
}

describe('a full disk', () => {
  const dataDir = tempDir();
  // EASEL_DISK_FAULT=injected forces the injected mode (to check it on a machine that can mount).
  const mode: Mode = process.env.EASEL_DISK_FAULT !== 'injected' && tryMountTmpfs(dataDir) ? 'tmpfs' : 'injected';
  let injectedFull = false;
  let restoreFs: (() => void) | undefined;
  let server: TestServer;
  let s: AnySocket;
  let statuses: { disk: { ok: boolean } }[];
  let filler: string | undefined;

  beforeAll(async () => {
    console.info(`disk-full fault test: ${mode === 'tmpfs' ? 'a real 3 MiB tmpfs as DATA_DIR' : 'injected ENOSPC (no root or no mount here)'}`);
    if (mode === 'injected') restoreFs = injectEnospc(dataDir, () => injectedFull);
    server = await startTestServer(
      { MIN_FREE_BYTES: String(48 * 1024), MODELS_DIR: join(tempDir(), 'models'), RATE_LIMIT_POINTS: '100000' },
      { dataDir, disk: { pollMs: 150, ...(mode === 'injected' ? { freeBytes: async () => (injectedFull ? 0 : 1 << 30) } : {}) } },
    );
    s = await connect(server.url, { token: server.token, client_id: 'disk' });
    statuses = collect(s, 'server:status');
  });
  afterAll(async () => {
    s?.close();
    await server?.dispose();
    restoreFs?.();
    if (mode === 'tmpfs') execFileSync('umount', ['-l', dataDir]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const generate = (prompt: string) => call(s, 'generate', { prompt, steps: 2, width: 64, height: 64 });

  it(`fails the job with insufficient_space and keeps serving (${mode})`, { timeout: 90_000 }, async () => {
    const before = await generate('before the disk fills');
    expect(before.ok).toBe(true);
    await waitFor(s, 'complete', (e: { job_id: string }) => e.job_id === before.job_id, 60_000);

    if (mode === 'tmpfs') filler = fillDisk(dataDir);
    else injectedFull = true;

    const doomed = await generate('the disk is full now');
    if (doomed.ok) {
      // Queued before the guard noticed: the job itself fails with the code.
      const status = await waitFor<{ job_id: string; status: string; error?: { code: string } }>(s, 'job:status', (e) => e.job_id === doomed.job_id && e.status === 'failed', 60_000);
      expect(status.error?.code).toBe('insufficient_space');
    } else {
      expect(doomed.error?.code).toBe('insufficient_space');
    }

    // The app hears it, health reports it, new work is refused with the code; the server is up.
    await expect.poll(() => statuses.at(-1)?.disk.ok, { timeout: 20_000 }).toBe(false);
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'degraded', disk: { ok: false, message: expect.any(String) } });
    expect(await generate('still full')).toMatchObject({ ok: false, error: { code: 'insufficient_space' } });
    expect(await call(s, 'download_model', { source: 'hf:a/b/c.safetensors', type: 'lora' })).toMatchObject({ ok: false, error: { code: 'insufficient_space' } });
    expect(s.connected).toBe(true);
    expect((await call(s, 'get_gallery', {})).ok).toBe(true);
  });

  it('resumes by itself once space returns', { timeout: 90_000 }, async () => {
    if (filler) rmSync(filler);
    injectedFull = false;
    await expect.poll(() => statuses.at(-1)?.disk.ok, { timeout: 20_000 }).toBe(true);
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const after = await generate('space is back');
    expect(after.ok).toBe(true);
    const done = await waitFor<{ job_id: string; images: unknown[] }>(s, 'complete', (e) => e.job_id === after.job_id, 60_000);
    expect(done.images).toHaveLength(1);
  });

  it('leaves a sound database and no orphan files or rows', async () => {
    const count = (await call(s, 'get_gallery', { limit: 100 })).items as { id: string }[];
    s.close();
    await server.close();
    const db = new Database(join(dataDir, 'gallery.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare('SELECT id, file FROM images').all() as { id: string; file: string }[];
      expect(rows.map((r) => r.id).sort()).toEqual(count.map((i) => i.id).sort());
      for (const r of rows) {
        expect(existsSync(join(dataDir, 'outputs', r.file)), r.file).toBe(true);
        expect(existsSync(join(dataDir, 'thumbs', `${r.id}.webp`)), r.id).toBe(true);
      }
      const files = readdirSync(join(dataDir, 'outputs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
      expect(files.map((f) => f.name).filter((n) => !n.endsWith('.png'))).toEqual([]);
      expect(files).toHaveLength(rows.length);
      expect(readdirSync(join(dataDir, 'thumbs')).filter((n) => !n.endsWith('.webp'))).toEqual([]);
    } finally {
      db.close();
    }
    writeFileSync(join(dataDir, 'checked'), 'ok');
  });
});

// Faults of one process at a time: the engine worker SIGKILLed mid-job, the whole server
// SIGKILLed with jobs queued and then restarted, a client that disconnects mid-job. After each:
// the queue goes on, PRAGMA integrity_check is ok, and no file lacks its row or row its file.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { call, connect, startTestServer, tempDir, waitFor, type AnySocket, type TestServer } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

/** Checks a data dir at rest: a sound database, every row with its files, every file with its row. */
function checkDataDir(dataDir: string): { images: number; jobs: Record<string, number> } {
  const db = new Database(join(dataDir, 'gallery.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT id, file FROM images').all() as { id: string; file: string }[];
    for (const r of rows) {
      expect(existsSync(join(dataDir, 'outputs', r.file)), `file of ${r.id}`).toBe(true);
      expect(existsSync(join(dataDir, 'thumbs', `${r.id}.webp`)), `thumb of ${r.id}`).toBe(true);
    }
    const files = readdirSync(join(dataDir, 'outputs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length, 'files without rows').toBe(rows.length);
    const thumbs = readdirSync(join(dataDir, 'thumbs'));
    expect(thumbs.sort()).toEqual(rows.map((r) => `${r.id}.webp`).sort());
    // Every image a completed job names exists.
    const jobs = db.prepare('SELECT status, image_ids FROM jobs').all() as { status: string; image_ids: string }[];
    const ids = new Set(rows.map((r) => r.id));
    for (const j of jobs) for (const id of JSON.parse(j.image_ids) as string[]) expect(ids.has(id), `image ${id} of a ${j.status} job`).toBe(true);
    const byStatus: Record<string, number> = {};
    for (const j of jobs) byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
    return { images: rows.length, jobs: byStatus };
  } finally {
    db.close();
  }
}

describe('process faults', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('engine worker SIGKILLed mid-job: that job fails engine_crashed, the next one completes', { timeout: 120_000 }, async () => {
    const server = await startTestServer({}, { fakeEnv: { FAKE_STEP_MS: '100' } });
    cleanup.push(() => server.dispose());
    const s = await connect(server.url, { token: server.token, client_id: 'killer' });
    cleanup.push(() => void s.close());
    const doomed = await call(s, 'generate', { prompt: 'mid-step', steps: 20, width: 64, height: 64 });
    const next = await call(s, 'generate', { prompt: 'after', steps: 2, width: 64, height: 64 });
    await waitFor(s, 'progress', (e: { job_id: string }) => e.job_id === doomed.job_id, 60_000);
    server.supervisor.killWorker('SIGKILL');
    const failed = await waitFor<{ job_id: string; code: string }>(s, 'error', (e) => e.job_id === doomed.job_id, 60_000);
    expect(failed.code).toBe('engine_crashed');
    const done = await waitFor<{ job_id: string; images: unknown[] }>(s, 'complete', (e) => e.job_id === next.job_id, 60_000);
    expect(done.images).toHaveLength(1);
    await server.queue.whenIdle();
    s.close();
    await server.close();
    expect(checkDataDir(server.dataDir)).toEqual({ images: 1, jobs: { failed: 1, completed: 1 } });
  });

  it('server SIGKILLed with jobs queued: on restart the queue resumes and nothing is orphaned', { timeout: 180_000 }, async () => {
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const host = spawn(process.execPath, ['--import', TSX, join(here, 'server-host.ts')], { env: { ...process.env, DATA_DIR: dataDir, FAKE_STEP_MS: '250' }, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => void (host.exitCode === null && host.kill('SIGKILL')));
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      let buf = '';
      host.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line) as { url: string; token: string });
      });
      host.once('exit', (code) => reject(new Error(`server host exited (${String(code)})`)));
    });
    const s = await connect(url, { token, client_id: 'survivor' });
    const first = await call(s, 'generate', { prompt: 'first', steps: 1, width: 64, height: 64 });
    const running = await call(s, 'generate', { prompt: 'running when killed', steps: 40, width: 64, height: 64 });
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push(await call(s, 'generate', { prompt: `queued ${i}`, steps: 2, width: 64, height: 64, seed: i }));
    await waitFor(s, 'complete', (e: { job_id: string }) => e.job_id === first.job_id, 60_000);
    await waitFor(s, 'progress', (e: { job_id: string }) => e.job_id === running.job_id, 60_000);
    s.close();
    host.kill('SIGKILL');
    await new Promise((r) => host.once('exit', r));

    const server = await startTestServer({}, { dataDir });
    const c = await connect(server.url, { token: server.token, client_id: 'survivor' });
    await server.queue.whenIdle();
    const interrupted = await call(c, 'get_job', { job_id: running.job_id });
    expect(interrupted.job).toMatchObject({ status: 'failed', error: { code: 'server_stopped' } });
    for (const q of queued) expect((await call(c, 'get_job', { job_id: q.job_id })).job).toMatchObject({ status: 'completed', image_ids: [expect.any(String)] });
    c.close();
    await server.close();
    expect(checkDataDir(dataDir)).toEqual({ images: 4, jobs: { completed: 4, failed: 1 } });
  });

  it('a client that disconnects mid-job finds the result when it comes back', { timeout: 120_000 }, async () => {
    const server = await startTestServer({}, { fakeEnv: { FAKE_STEP_MS: '60' } });
    cleanup.push(() => server.dispose());
    const watcher = await connect(server.url, { token: server.token, client_id: 'watcher' });
    cleanup.push(() => void watcher.close());
    const a = await connect(server.url, { token: server.token, client_id: 'leaver' });
    const job = await call(a, 'generate', { prompt: 'left mid-job', steps: 10, width: 64, height: 64 });
    await waitFor(a, 'progress', (e: { job_id: string }) => e.job_id === job.job_id, 60_000);
    a.disconnect();
    const broadcast = await waitFor<{ images: { id: string }[] }>(watcher, 'gallery:new', () => true, 60_000);
    const back = await connect(server.url, { token: server.token, client_id: 'leaver' });
    const found = await call(back, 'get_job', { job_id: job.job_id });
    expect(found.job).toMatchObject({ status: 'completed', image_ids: [broadcast.images[0]!.id] });
    expect((await call(back, 'get_gallery', {})).items).toHaveLength(1);
    back.close();
    await server.close();
    expect(checkDataDir(server.dataDir)).toEqual({ images: 1, jobs: { completed: 1 } });
  });
});

// JobTracker against a real Socket.IO server that plays a job's events (node environment; no DOM
// needed except URL.createObjectURL for previews, provided by Node).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionManager } from './connection.js';
import { JobTracker } from './jobs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(onGenerate: (socket: Socket, ack: (r: unknown) => void) => void): Promise<{ tracker: JobTracker; conn: ConnectionManager }> {
  const http = createServer();
  const io = new Server(http);
  io.on('connection', (socket) => {
    socket.on('generate', (_p: unknown, ack: (r: unknown) => void) => onGenerate(socket, ack));
    socket.on('cancel', (p: { job_id: string }, ack: (r: unknown) => void) => ack({ ok: true, job_id: p.job_id, status: 'cancelled' }));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => (io.close(), http.close(() => r()))));
  const conn = new ConnectionManager({ reconnectDelayMs: 100 });
  cleanups.push(() => conn.close());
  conn.configure({ serverUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: 't', clientId: 'c' });
  await expect.poll(() => conn.state).toBe('connected');
  return { tracker: new JobTracker(conn), conn };
}

const image = { id: 'img1', seed: 4242, width: 64, height: 64, url: '/files/images/img1', thumb_url: '/files/thumbs/img1' };

describe('JobTracker', () => {
  it('follows queue position, progress, preview and completion of its job only', async () => {
    const { tracker } = await setup((socket, ack) => {
      ack({ ok: true, job_id: 'j1', position: 2 });
      setTimeout(() => {
        socket.emit('progress', { job_id: 'other', step: 9, total: 9, status: 'running' });
        socket.emit('queue', { seq: 1, jobs: [{ job_id: 'j1', status: 'queued', position: 1 }], queued_total: 1 });
      }, 20);
      setTimeout(() => socket.emit('progress', { job_id: 'j1', step: 3, total: 8, status: 'running', eta_s: 5 }), 60);
      setTimeout(() => socket.emit('progress', { job_id: 'j1', step: 4, total: 8, status: 'running' }), 70);
      // A preview of an earlier step arriving after a later progress must not move the step back.
      setTimeout(() => socket.emit('preview', { job_id: 'j1', step: 3, mime: 'image/jpeg', data: Buffer.from([0xff, 0xd8, 0xff]) }), 80);
      setTimeout(() => socket.emit('complete', { job_id: 'j1', images: [image], metadata: {} }), 140);
    });
    const phases: string[] = [];
    tracker.addEventListener('change', () => {
      const v = tracker.current!;
      phases.push(`${v.phase}:${v.position ?? '-'}:${v.step}`);
    });
    await tracker.generate({ prompt: 'x', steps: 8 });
    expect(tracker.current).toMatchObject({ jobId: 'j1', phase: 'queued', position: 2 });
    await expect.poll(() => tracker.current?.phase).toBe('completed');
    expect(phases).toContain('queued:1:0');
    expect(phases).toContain('running:0:3');
    expect(phases.some((p) => p.includes(':9'))).toBe(false);
    const steps = phases.map((p) => Number(p.split(':')[2]));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(tracker.current?.previewUrl).toMatch(/^blob:/);
    expect(tracker.current?.images).toEqual([image]);
    expect(tracker.lastSeed).toBe(4242);
    expect(tracker.busy).toBe(false);
  });

  it('raises one failed event for a refused generate and for a job that fails later', async () => {
    let refuse = true;
    const { tracker } = await setup((socket, ack) => {
      if (refuse) return ack({ ok: false, error: { code: 'engine_unavailable', message: 'no engine' } });
      ack({ ok: true, job_id: 'j2', position: 1 });
      setTimeout(() => {
        socket.emit('job:status', { seq: 5, job_id: 'j2', status: 'failed', error: { code: 'not_found', message: 'no checkpoint found' } });
        socket.emit('error', { job_id: 'j2', code: 'not_found', message: 'no checkpoint found' });
      }, 30);
    });
    const failures: string[] = [];
    tracker.addEventListener('failed', (e) => failures.push((e as CustomEvent<{ code: string }>).detail.code));
    await expect(tracker.generate({ prompt: 'x' })).rejects.toMatchObject({ code: 'engine_unavailable' });
    expect(tracker.current?.phase).toBe('failed');
    refuse = false;
    await tracker.generate({ prompt: 'y' });
    await expect.poll(() => tracker.current?.phase).toBe('failed');
    await new Promise((r) => setTimeout(r, 50));
    expect(failures).toEqual(['engine_unavailable', 'not_found']);
    expect(tracker.current?.error?.message).toBe('no checkpoint found');
  });

  it('cancels the running job', async () => {
    const { tracker } = await setup((socket, ack) => {
      ack({ ok: true, job_id: 'j3', position: 0 });
      socket.emit('progress', { job_id: 'j3', step: 1, total: 10, status: 'running' });
    });
    await tracker.generate({ prompt: 'x' });
    await expect.poll(() => tracker.current?.phase).toBe('running');
    await tracker.cancel();
    expect(tracker.current?.phase).toBe('cancelled');
  });
});

// Fault: the server is SIGKILLed while the engine worker is inside a step that blocks its JS
// thread (session.run does). The worker must exit at once, not when the step ends, so a quick
// restart never holds two models on one GPU.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

/** Alive and not a zombie (an orphan's zombie waits for init to reap it). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

async function waitUntil(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

describe('engine worker whose server dies', () => {
  it('exits at once after a SIGKILL of the server, mid-step, not when its 60 s step ends', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'worker.pid');
    const host = spawn(process.execPath, ['--import', TSX, join(here, 'supervisor-host.ts')], {
      env: { ...process.env, FAKE_BLOCK_MS: '60000', FAKE_PID_FILE: pidFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        host.stdout!.on('data', (d: Buffer) => (d.toString().includes('running') ? resolve() : undefined));
        host.once('exit', (code) => reject(new Error(`host exited early (${String(code)})`)));
      });
      expect(await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 60_000)).toBe(true);
      const workerPid = Number(readFileSync(pidFile, 'utf8'));
      // Let the worker get into its blocking step.
      await new Promise((r) => setTimeout(r, 300));
      expect(processAlive(workerPid)).toBe(true);

      const killedAt = Date.now();
      host.kill('SIGKILL');
      const gone = await waitUntil(() => !processAlive(workerPid), 3000);
      if (!gone) process.kill(workerPid, 'SIGKILL');
      expect(gone, 'the worker outlived its server by more than 3 s (it waited for its step to end)').toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(3000);
    } finally {
      if (host.exitCode === null) host.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

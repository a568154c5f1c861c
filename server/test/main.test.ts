// `npm start` end to end: main.ts prints the URL with the token, the token file is created with
// mode 0600, the server answers, and SIGTERM shuts it down cleanly.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('main.ts', () => {
  it('prints the URL with the token and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', '0'], {
        cwd: root,
        env: { ...process.env, DATA_DIR: dataDir, MODELS_DIR: join(dataDir, 'models'), LOG_LEVEL: 'silent', AUTH_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const line = await new Promise<string>((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed; got: ${out}`)), 100_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Easel is running: (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolveLine(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
      });
      const url = new URL(line);
      const token = url.hash.replace('#token=', '');
      expect(token).toBe(readFileSync(join(dataDir, 'auth-token'), 'utf8').trim());
      expect(statSync(join(dataDir, 'auth-token')).mode & 0o777).toBe(0o600);
      const res = await fetch(`${url.origin}/api/info`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);

      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`${url.origin}/api/health`)).rejects.toThrow();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Starting compiles the whole server with tsx: well over 30 s on a 2-core machine under load.
  }, 150_000);
});

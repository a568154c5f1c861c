// The Dockerfile cannot be built here (no Docker engine), so this checks what can be checked
// without one: it installs and starts with the README's commands (as package.json defines them),
// its environment names real settings and matches its volumes and port, the README's `docker run`
// matches those, and its HEALTHCHECK command, run as written, tells a live server from a dead port.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS } from '../server/config.js';
import { startServer, type RunningServer } from '../server/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FAKE_WORKER = join(ROOT, 'server', 'test', 'fake-worker.ts');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (pending && line.startsWith('#')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const m = /^(\S+)\s+([\s\S]*)$/.exec(pending);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
    pending = '';
  }
  return out;
}

/** The commands of a shell line: split on `&&`, leading VAR=value assignments removed. */
function commands(shell: string): string[] {
  return shell
    .split('&&')
    .map((c) => c.trim().replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, ''))
    .filter(Boolean);
}

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  expect(start, `README has no "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, end < 0 ? undefined : end);
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const finalStage = dockerfile.slice(dockerfile.map((i) => i.op).lastIndexOf('FROM'));
const runs = finalStage.filter((i) => i.op === 'RUN').flatMap((i) => commands(i.args));
const env = new Map<string, string>();
for (const i of finalStage.filter((i) => i.op === 'ENV')) {
  for (const m of i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env.set(m[1]!, m[2]!);
}
const jsonArgs = (op: string): string[] => {
  const i = finalStage.find((x) => x.op === op);
  expect(i, `no ${op} in the final stage`).toBeDefined();
  return JSON.parse(i!.args.replace(/^CMD\s+/, '')) as string[];
};

describe('Dockerfile', () => {
  it('installs and starts with the README commands, as package.json defines them', () => {
    const block = /```sh\n([^`]*?)\n```/.exec(section(readme, 'The two commands'))![1]!.split('\n')[0]!;
    expect(block).toBe('npm ci && npm start');
    const [install, start] = commands(block);
    expect(runs).toContain(install);
    // `npm start` = its prestart (the web build) then the start script.
    expect(start).toBe('npm start');
    expect(runs).toContain(scripts.prestart);
    const cmd = jsonArgs('CMD').join(' ').replace(/^node_modules\/\.bin\//, '');
    expect(cmd).toBe(scripts.start);
    // The install comes before the build, with onnxruntime-node's optional download settled explicitly.
    expect(runs.indexOf(install!)).toBeLessThan(runs.indexOf(scripts.prestart!));
    expect(finalStage.find((i) => i.op === 'RUN' && i.args.includes('npm ci'))!.args).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip npm ci/);
  });

  it('sets only real settings, and its port and folders match EXPOSE, VOLUME and the README', () => {
    const known = new Set(SETTINGS.map((s) => s.env));
    for (const name of env.keys()) if (name !== 'NODE_ENV') expect(known.has(name), `ENV ${name} is not a server setting`).toBe(true);
    expect(env.get('HOST')).toBe('0.0.0.0');
    const exposed = finalStage.find((i) => i.op === 'EXPOSE')!.args.trim();
    expect(env.get('PORT')).toBe(exposed);
    const volumes = JSON.parse(finalStage.find((i) => i.op === 'VOLUME')!.args) as string[];
    expect(volumes.sort()).toEqual([env.get('DATA_DIR'), env.get('MODELS_DIR')].sort());
    const user = finalStage.filter((i) => i.op === 'USER').at(-1)?.args.trim();
    expect(user && user !== 'root' && user !== '0').toBeTruthy();

    const docker = section(readme, 'Docker');
    const runLine = docker.split('\n').find((l) => l.startsWith('docker run'))!;
    expect(runLine).toContain(`-p ${exposed}:${exposed}`);
    for (const v of volumes) expect(runLine).toMatch(new RegExp(`-v \\S+:${v}"?(\\s|$)`));
    expect(docker).toMatch(/--build-arg ENGINE=cuda/);
    const engineArg = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('ENGINE='));
    expect(engineArg?.args).toBe('ENGINE=cpu');
  });

  it('keeps installed output, data, models and history out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'data', 'models', '.git', 'web/dist', 'screenshots']) expect(ignore).toContain(p);
    // Nothing the build copies by name is ignored.
    const copied = finalStage.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const c of copied.filter((c) => c !== '.')) expect(ignore).not.toContain(c);
  });

  describe('HEALTHCHECK', () => {
    let dir: string;
    let server: RunningServer;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'easel-docker-health-'));
      mkdirSync(join(dir, 'models'));
      server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, MODELS_DIR: join(dir, 'models'), LOG_LEVEL: 'silent' }), { workerEntry: FAKE_WORKER });
    });

    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Runs the HEALTHCHECK command as written (async: the server under test lives in this process). */
    function healthcheck(port: number): Promise<number | null> {
      const i = finalStage.find((x) => x.op === 'HEALTHCHECK')!;
      const argv = JSON.parse(i.args.slice(i.args.indexOf('CMD') + 3).trim()) as string[];
      expect(argv[0]).toBe('node');
      return new Promise((res) => {
        execFile(process.execPath, argv.slice(1), { env: { PORT: String(port) }, timeout: 20_000 }, (err) => {
          res(err ? (typeof err.code === 'number' ? err.code : null) : 0);
        });
      });
    }

    it('passes against a running server', async () => {
      expect(await healthcheck(server.port)).toBe(0);
    });

    it('fails when nothing listens on the port', async () => {
      const port = await new Promise<number>((res) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => res(p));
        });
      });
      expect(await healthcheck(port)).toBe(1);
    });
  });
});

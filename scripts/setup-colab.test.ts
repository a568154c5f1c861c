// setup_colab.sh: shellcheck, argument handling, the final line's link, and the --dry-run plan on
// a fake PATH whose stub `node`, `npm`, `nvidia-smi`, `curl` and `cloudflared` record every call,
// so the test sees both what the script would do and that it only probed on the way. The script
// runs from a copy in a temp "repository", so its stamps and pid files are the test's own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(REPO_ROOT, 'setup_colab.sh');
const PAGES = 'https://pages.example/easel';

let root: string;
let repo: string;
let stubs: string;
let home: string;
let stubLog: string;
const children: ChildProcess[] = [];

interface Stubs {
  nodeVersion?: string | null;
  gpu?: boolean;
  /** Exit status of every `curl` probe: 0 = the health check answers. */
  curlStatus?: number;
  cloudflared?: boolean;
}

function writeStub(name: string, body: string): void {
  const file = join(stubs, name);
  writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> "$STUB_LOG"\n${body}\n`);
  chmodSync(file, 0o755);
}

function makeStubs(s: Stubs = {}): void {
  if (s.nodeVersion !== null) writeStub('node', `[ "$1" = --version ] && echo ${s.nodeVersion ?? 'v18.19.0'}\nexit 0`);
  writeStub('npm', 'exit 0');
  writeStub('nvidia-smi', s.gpu === false ? 'exit 9' : 'echo "GPU 0: Tesla T4 (UUID: GPU-0)"');
  writeStub('curl', `exit ${s.curlStatus ?? 7}`);
  if (s.cloudflared) writeStub('cloudflared', 'exit 0');
}

function runScript(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 30_000) {
  const r = spawnSync('bash', [join(repo, 'setup_colab.sh'), ...args], {
    cwd: root,
    encoding: 'utf8',
    // Stubs first; coreutils and grep from the system. Nothing from the parent environment leaks in.
    env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: home, STUB_LOG: stubLog, EASEL_PAGES_URL: PAGES, ...extraEnv },
    timeout: timeoutMs,
  });
  const calls = existsSync(stubLog) ? readFileSync(stubLog, 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean), calls };
}

/** Like runScript, without blocking this process (for tests whose servers live in it). */
function runScriptAsync(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<ReturnType<typeof runScript>> {
  return new Promise((res) => {
    const child = spawn('bash', [join(repo, 'setup_colab.sh'), ...args], {
      cwd: root,
      env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: home, STUB_LOG: stubLog, EASEL_PAGES_URL: PAGES, ...extraEnv },
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => {
      const calls = existsSync(stubLog) ? readFileSync(stubLog, 'utf8').split('\n').filter(Boolean) : [];
      res({ status, stdout, stderr, lines: stdout.split('\n').filter(Boolean), calls });
    });
  });
}

/** Probes a dry run may make: none of them changes anything. */
const READ_ONLY_PROBE = [/^node --version$/, /^nvidia-smi -L$/, /^curl -fsS -m \d+ -o \/dev\/null http:\/\/127\.0\.0\.1:\d+\/api\/health$/, /^curl -fsS -m \d+ -o \/dev\/null https:\/\/[-a-z0-9]+\.trycloudflare\.com\/api\/health$/];

function expectOnlyProbes(calls: string[]): void {
  for (const c of calls) expect(READ_ONLY_PROBE.some((re) => re.test(c)), `not a read-only probe: ${c}`).toBe(true);
}

/** A live process whose command line contains `marker`, standing in for the server or cloudflared. */
function fakeProcess(marker: string): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)', marker], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

function indexOfLine(lines: string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  expect(i, `no line matches ${re}:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
  return i;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'easel-colab-'));
  repo = join(root, 'repo');
  stubs = join(root, 'stubs');
  home = join(root, 'home');
  stubLog = join(root, 'calls.log');
  for (const d of [repo, stubs, home]) mkdirSync(d);
  copyFileSync(SCRIPT, join(repo, 'setup_colab.sh'));
  writeFileSync(join(repo, 'package-lock.json'), '{"lockfileVersion":3}\n');
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('setup_colab.sh', () => {
  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['--severity=style', SCRIPT], { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('shellcheck is not installed; install it with: bash scripts/install-system-deps.sh');
    }
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('prints help and exits 0', () => {
    makeStubs();
    const r = runScript(['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--dry-run', '--drive', '--drive-dir', '--models-dir', '--data-dir', '--port', '--no-tunnel', '--pages-url', '--print-link', 'lora=civitai:']) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.calls).toEqual([]);
  });

  it("defaults the Pages link to the GitHub Pages site of the clone's origin", () => {
    makeStubs();
    const git = (...args: string[]) => expect(spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).status).toBe(0);
    git('init', '-q');
    git('remote', 'add', 'origin', 'https://github.com/Alice/easel-fork.git');
    expect(runScript(['--help'], { EASEL_PAGES_URL: '' }).stdout).toContain('(default https://alice.github.io/easel-fork)');
    git('remote', 'set-url', 'origin', 'git@github.com:bob/studio');
    expect(runScript(['--help'], { EASEL_PAGES_URL: '' }).stdout).toContain('(default https://bob.github.io/studio)');
    // An explicit URL wins over the remote.
    expect(runScript(['--help']).stdout).toContain(`(default ${PAGES})`);
  });

  it.each([
    [['--frobnicate'], /unknown option --frobnicate/],
    [['--port', 'abc'], /--port must be an integer/],
    [['--port'], /--port needs a value/],
    [['--dry-run', 'poster=hf:a/b/c.safetensors'], /unknown model type "poster"/],
    [['--dry-run', 'ftp://host/file.safetensors'], /not a model source/],
  ])('refuses %j with exit 2 before doing anything', (args, message) => {
    makeStubs();
    const r = runScript(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(r.calls).toEqual([]);
  });

  it('prints the ready line with the server URL and token percent-encoded in the Pages link', () => {
    makeStubs();
    const url = 'https://ab-cd.trycloudflare.com/sub?x=1&y=é #+';
    const token = 'tok/+=&é';
    const r = runScript(['--print-link', url, token, '--pages-url', `${PAGES}/`]);
    expect(r.status).toBe(0);
    expect(r.lines).toHaveLength(1);
    const m = /^Easel is ready: (.+) {2}token: (.+) {2}open: (\S+)$/.exec(r.lines[0]!);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(url);
    expect(m![2]).toBe(token);
    const open = new URL(m![3]!);
    expect(`${open.origin}${open.pathname}`).toBe(`${PAGES}/`);
    // Everything travels in the fragment, which browsers never send to a server.
    expect(open.search).toBe('');
    const params = new URLSearchParams(open.hash.slice(1));
    expect(params.get('server')).toBe(url);
    expect(params.get('token')).toBe(token);
    expect([...params.keys()]).toEqual(['server', 'token']);
    expect(r.calls).toEqual([]);
  });

  it('--dry-run on a fresh GPU machine prints the whole plan and only probes', () => {
    makeStubs({ nodeVersion: 'v18.19.0', gpu: true, curlStatus: 7, cloudflared: false });
    const data = join(root, 'data');
    const models = join(root, 'models');
    const r = runScript(['--dry-run', '--data-dir', data, '--models-dir', models, '--port', '7861', 'hf:runwayml/sd/v1-5.safetensors', 'lora=civitai:123', 'starter:sd15']);
    expect(r.stderr).not.toMatch(/setup_colab\.sh:/);
    expect(r.status).toBe(0);
    for (const line of r.lines) expect(line).toMatch(/^\[dry-run\] /);
    const plan = [
      /install Node v20\.\d+\.\d+/,
      /npm ci with ONNXRUNTIME_NODE_INSTALL=cuda12/,
      /onnxruntime-node's CUDA 12 binaries/,
      /build the web app/,
      new RegExp(`create folder ${models}$`),
      new RegExp(`create folder ${data}$`),
      /download checkpoint hf:runwayml\/sd\/v1-5\.safetensors into .*scripts\/download-model\.ts/,
      /download lora civitai:123 into /,
      /download starter model sd15 into .*\(tsx scripts\/models\.ts --starter sd15\)/,
      /start the server .*127\.0\.0\.1:7861 .*ENGINE_DEVICE=cuda, CORS_ORIGINS=https:\/\/pages\.example[,)]/,
      /download cloudflared \(https:\/\/github\.com\/cloudflare\/cloudflared\/releases\//,
      /start a Cloudflare quick tunnel \(cloudflared tunnel --url http:\/\/127\.0\.0\.1:7861/,
      /print: Easel is ready: /,
    ];
    const at = plan.map((re) => indexOfLine(r.lines, re));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(r.lines).toHaveLength(plan.length);
    // Changed nothing: no folders, no files, and the stubs saw only probes.
    expectOnlyProbes(r.calls);
    expect(r.calls).toContain('node --version');
    expect(existsSync(data)).toBe(false);
    expect(existsSync(models)).toBe(false);
    expect(existsSync(join(repo, 'node_modules'))).toBe(false);
    expect(existsSync(join(home, '.local'))).toBe(false);
  });

  it('--dry-run without a GPU plans a CPU install and warns', () => {
    makeStubs({ nodeVersion: 'v20.19.0', gpu: false, cloudflared: true });
    const r = runScript(['--dry-run', '--no-tunnel', '--data-dir', join(root, 'd'), '--models-dir', join(root, 'm')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/WARNING: .*no GPU/);
    expect(r.stdout).not.toMatch(/install Node/);
    expect(r.stdout).toMatch(/npm ci with ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(r.stdout).not.toMatch(/CUDA 12 binaries|cloudflared|tunnel/);
    expect(r.stdout).toMatch(/ENGINE_DEVICE=cpu/);
    expect(r.lines.at(-1)).toMatch(/^\[dry-run\] print: Easel is ready: http:\/\/127\.0\.0\.1:7860 {2}token: /);
    expectOnlyProbes(r.calls);
  });

  describe('on a machine where a first run finished', () => {
    let data: string;
    let models: string;
    const tunnelUrl = 'https://quiet-fox-42.trycloudflare.com';

    function fingerprint(port: number): string {
      return `port=${port} data=${data} models=${models} device=cuda cors=https://pages.example\n`;
    }

    beforeEach(() => {
      makeStubs({ nodeVersion: 'v20.20.2', gpu: true, curlStatus: 0, cloudflared: true });
      data = join(root, 'data');
      models = join(root, 'models');
      mkdirSync(data);
      mkdirSync(join(models, 'checkpoints'), { recursive: true });
      const lockSha = createHash('sha256').update(readFileSync(join(repo, 'package-lock.json'))).digest('hex');
      const ortDir = join(repo, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
      mkdirSync(ortDir, { recursive: true });
      writeFileSync(join(ortDir, 'libonnxruntime_providers_cuda.so'), '');
      writeFileSync(join(repo, 'node_modules/.easel-lock.sha256'), `${lockSha}\n`);
      mkdirSync(join(repo, 'web/dist'), { recursive: true });
      writeFileSync(join(repo, 'web/dist/index.html'), '<!doctype html>');
      writeFileSync(join(repo, 'web/dist/.easel-lock.sha256'), `${lockSha}\n`);
      const ckpt = join(models, 'checkpoints', 'v1-5.safetensors');
      writeFileSync(ckpt, 'x');
      writeFileSync(join(models, '.easel-downloads.tsv'), `checkpoint\thf:runwayml/sd/v1-5.safetensors\t${ckpt}\n`);
      writeFileSync(join(data, 'auth-token'), 'tok-123\n');
      writeFileSync(join(data, 'easel-server.pid'), `${fakeProcess('server/main.ts')}\n`);
      writeFileSync(join(data, 'easel-server.env'), fingerprint(7860));
      writeFileSync(join(data, 'cloudflared.pid'), `${fakeProcess('cloudflared')}\n`);
      writeFileSync(join(data, 'cloudflared.log'), `INF |  ${tunnelUrl}  |\n`);
      writeFileSync(join(data, 'cloudflared.target'), 'http://127.0.0.1:7860\n');
    });

    it('a second run reuses everything and prints the same link', () => {
      const r = runScript(['--dry-run', '--data-dir', data, '--models-dir', models, 'hf:runwayml/sd/v1-5.safetensors']);
      expect(r.status).toBe(0);
      expect(r.lines).toHaveLength(1);
      const line = r.lines[0]!.replace(/^\[dry-run\] print: /, '');
      const expected = runScript(['--print-link', tunnelUrl, 'tok-123']).lines[0];
      expect(line).toBe(expected);
      expect(r.stderr).toMatch(/server already running/);
      expect(r.stderr).toMatch(/tunnel already up/);
      expectOnlyProbes(r.calls);
    });

    it('restarts the server and the tunnel cleanly when the port changes', () => {
      const r = runScript(['--dry-run', '--data-dir', data, '--models-dir', models, '--port', '7870']);
      expect(r.status).toBe(0);
      const stop = indexOfLine(r.lines, /stop the running server \(pid \d+\)/);
      const start = indexOfLine(r.lines, /start the server .*127\.0\.0\.1:7870/);
      const stopTunnel = indexOfLine(r.lines, /stop the stale tunnel/);
      const startTunnel = indexOfLine(r.lines, /start a Cloudflare quick tunnel .*127\.0\.0\.1:7870/);
      expect(stop).toBeLessThan(start);
      expect(start).toBeLessThan(stopTunnel);
      expect(stopTunnel).toBeLessThan(startTunnel);
      expect(r.stdout).not.toMatch(/npm ci|build the web app|download/);
      expectOnlyProbes(r.calls);
    });

    it('refuses a port that answers but was not started by the script', () => {
      writeFileSync(join(data, 'easel-server.pid'), '999999999\n');
      const r = runScript(['--dry-run', '--data-dir', data, '--models-dir', models]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/port 7860 already answers .* not from a server this script started/);
    });
  });

  it('--drive needs the mounted Drive folder and then keeps models and data there', () => {
    makeStubs({ nodeVersion: 'v20.20.2', cloudflared: true });
    const missing = runScript(['--dry-run', '--drive-dir', join(root, 'drive', 'MyDrive', 'Easel')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/Google Drive is not mounted: .*drive\.mount\('\/content\/drive'\)/);

    mkdirSync(join(root, 'drive', 'MyDrive'), { recursive: true });
    const easel = join(root, 'drive', 'MyDrive', 'Easel');
    const r = runScript(['--dry-run', '--drive-dir', easel]);
    expect(r.status).toBe(0);
    indexOfLine(r.lines, new RegExp(`create folder ${easel}/models$`));
    indexOfLine(r.lines, new RegExp(`create folder ${easel}/data$`));
    indexOfLine(r.lines, new RegExp(`log ${easel}/data/easel-server\\.log`));
    expect(existsSync(easel)).toBe(false);
    expectOnlyProbes(r.calls);
  });
});

/** A minimal valid .safetensors file: one F32 tensor (not an SD checkpoint, so no tokenizer fetch). */
function tinySafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ 'lora_unet_down.alpha': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(16)]);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** Stops a process the script started and waits for it to exit, so its folder can be removed. */
async function stopFromPidFile(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  // A zombie (exited, not yet reaped by whoever adopted it) counts as gone.
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

describe('setup_colab.sh for real (installed repo, fake cloudflared)', () => {
  it('downloads the model, starts the real server, prints the link; a second run reuses all of it', async () => {
    // A repository whose dependencies are already installed (stamps match), the real server code
    // and tsx linked in: the run skips npm ci and the build, so nothing is downloaded.
    for (const d of ['server', 'native', 'scripts']) symlinkSync(join(REPO_ROOT, d), join(repo, d));
    mkdirSync(join(repo, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), join(repo, 'node_modules', '.bin', 'tsx'));
    const lockSha = createHash('sha256').update(readFileSync(join(repo, 'package-lock.json'))).digest('hex');
    writeFileSync(join(repo, 'node_modules', '.easel-lock.sha256'), `${lockSha}\n`);
    mkdirSync(join(repo, 'web', 'dist'), { recursive: true });
    writeFileSync(join(repo, 'web', 'dist', 'index.html'), '<!doctype html><title>Easel</title>');
    writeFileSync(join(repo, 'web', 'dist', '.easel-lock.sha256'), `${lockSha}\n`);
    // No GPU; cloudflared prints a quick-tunnel URL and stays up; the public health probe of that
    // (unresolvable) URL answers through the curl wrapper, local probes reach the real server.
    writeStub('nvidia-smi', 'exit 9');
    writeStub('cloudflared', `echo "ERR failed to reach https://api.trycloudflare.com/tunnel, retrying"\necho "INF |  https://fake-tunnel-7.trycloudflare.com  |"\ntrap 'kill $! 2>/dev/null; exit 0' TERM\nsleep 600 &\nwait`);
    writeStub('curl', 'case "$*" in *trycloudflare.com*) exit 0 ;; *) exec /usr/bin/curl "$@" ;; esac');
    const data = join(root, 'data');
    const models = join(root, 'models');
    const port = await freePort();
    // The model comes from a loopback HTTP server (allowed by ALLOW_PRIVATE_DOWNLOADS for the test).
    const lora = tinySafetensors();
    let fetched = 0;
    const files = createHttpServer((req, res) => {
      if (req.method === 'GET') fetched++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(lora.length) });
      res.end(req.method === 'HEAD' ? undefined : lora);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const source = `http://127.0.0.1:${(files.address() as { port: number }).port}/files/tiny-lora.safetensors`;
    const args = ['--data-dir', data, '--models-dir', models, '--port', String(port), '--pages-url', PAGES, `lora=${source}`];
    const env = { ALLOW_PRIVATE_DOWNLOADS: 'true' };
    try {
      const first = await runScriptAsync(args, env);
      expect(first.stderr).toMatch(/WARNING: .*no GPU/);
      expect(first.status, first.stderr).toBe(0);
      expect(first.lines).toHaveLength(1);
      expect(readFileSync(join(models, 'loras', 'tiny-lora.safetensors')).equals(lora)).toBe(true);
      const fetchedFirst = fetched;
      expect(fetchedFirst).toBeGreaterThan(0);
      const token = readFileSync(join(data, 'auth-token'), 'utf8').trim();
      expect(first.lines[0]).toBe(runScript(['--print-link', 'https://fake-tunnel-7.trycloudflare.com', token]).lines[0]);
      // The server really runs with the settings the script chose.
      const health = await fetch(`http://127.0.0.1:${port}/api/health`);
      expect(health.status).toBe(200);
      const preflight = await fetch(`http://127.0.0.1:${port}/api/info`, { headers: { origin: 'https://pages.example', authorization: `Bearer ${token}` } });
      expect(preflight.status).toBe(200);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://pages.example');
      const serverPid = readFileSync(join(data, 'easel-server.pid'), 'utf8');
      const tunnelPid = readFileSync(join(data, 'cloudflared.pid'), 'utf8');
      expect(readFileSync(join(data, 'easel-server.log'), 'utf8')).toContain('Easel is running');

      const second = await runScriptAsync(args, env);
      expect(second.status, second.stderr).toBe(0);
      expect(second.lines).toEqual(first.lines);
      expect(second.stderr).toMatch(/server already running/);
      expect(second.stderr).toMatch(/tunnel already up/);
      expect(second.stderr).toMatch(/lora http:\S+ already downloaded/);
      expect(fetched).toBe(fetchedFirst);
      expect(readFileSync(join(data, 'easel-server.pid'), 'utf8')).toBe(serverPid);
      expect(readFileSync(join(data, 'cloudflared.pid'), 'utf8')).toBe(tunnelPid);
    } finally {
      files.close();
      await stopFromPidFile(join(data, 'cloudflared.pid'));
      await stopFromPidFile(join(data, 'easel-server.pid'));
    }
  }, 240_000);
});

describe('colab/Easel.ipynb', () => {
  interface Cell {
    cell_type: string;
    id?: string;
    metadata: object;
    source: string[] | string;
    outputs?: unknown[];
    execution_count?: number | null;
  }
  const nb = JSON.parse(readFileSync(join(REPO_ROOT, 'colab', 'Easel.ipynb'), 'utf8')) as { nbformat: number; nbformat_minor: number; metadata: object; cells: Cell[] };
  const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

  it('is an nbformat 4 notebook with clean, unexecuted cells', () => {
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBeGreaterThanOrEqual(5);
    expect(typeof nb.metadata).toBe('object');
    const ids = new Set<string>();
    for (const c of nb.cells) {
      expect(['markdown', 'code']).toContain(c.cell_type);
      expect(typeof c.metadata).toBe('object');
      // nbformat 4.5: every cell has a unique id of 1-64 letters, digits, - and _.
      expect(c.id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
      ids.add(c.id!);
      if (c.cell_type === 'code') {
        expect(c.outputs).toEqual([]);
        expect(c.execution_count).toBeNull();
      } else {
        expect(c.outputs).toBeUndefined();
      }
    }
    expect(ids.size).toBe(nb.cells.length);
  });

  it('mounts Drive from Python and runs setup_colab.sh with options the script knows', () => {
    const code = nb.cells.filter((c) => c.cell_type === 'code').map(text);
    expect(code.some((c) => c.includes("drive.mount('/content/drive')"))).toBe(true);
    const run = code.find((c) => c.includes('bash setup_colab.sh'));
    expect(run).toBeDefined();
    makeStubs();
    const help = runScript(['--help']).stdout;
    const options = new Set([...run!.matchAll(/"(--[a-z-]+)"/g)].map((m) => m[1]!));
    expect(options.size).toBeGreaterThan(0);
    for (const o of options) expect(help).toContain(o);
    // The Drive folder the notebook mounts is the script's default.
    expect(help).toContain('/content/drive/MyDrive/Easel');
  });
});

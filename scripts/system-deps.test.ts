// The README's test command works on a fresh machine as written: it runs
// scripts/install-system-deps.sh first, .ci/run runs exactly that line, `npm test` checks the
// packages before anything else, and every outside tool a test starts is in the script's list.
// The script itself runs here against a PATH of stubs (nothing is installed).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'install-system-deps.sh');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

/** The `command:package` pairs of the script's DEPS line. */
function declaredDeps(): Map<string, string> {
  const line = /^DEPS=\(([^)]*)\)$/m.exec(read('scripts/install-system-deps.sh'))![1]!;
  return new Map(line.trim().split(/\s+/).map((d) => d.split(':') as [string, string]));
}

function testSources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) testSources(p, out);
    else if (/\.test\.ts$/.test(name) || (/\.ts$/.test(name) && /\/test\//.test(p))) out.push(p);
  }
  return out;
}

describe('the documented test command', () => {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('\n## The two commands\n'), readme.indexOf('\n## ', readme.indexOf('\n## The two commands\n') + 4));
  const blocks = [...section.matchAll(/```sh\n([^`]*?)\n```/g)].map((m) => m[1]!.trim());
  const testCommand = blocks[1]!;

  it('installs the system packages first, and .ci/run runs that line and nothing else', () => {
    expect(blocks[0]).toBe('npm ci && npm start');
    expect(testCommand).toBe('bash scripts/install-system-deps.sh && npm ci && npm test');
    const ci = read('.ci/run')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ci).toEqual(['set -euo pipefail', 'cd "$(dirname "$0")/.."', 'export ONNXRUNTIME_NODE_INSTALL=skip', testCommand]);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('bash scripts/install-system-deps.sh --check');
  });

  it('lists every outside program a test starts', () => {
    const deps = declaredDeps();
    const used = new Set<string>();
    for (const file of testSources(ROOT)) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*'([^']+)'/g)) used.add(m[1]!);
      if (/launchChromium|startBrowserRig|requireChromium/.test(src)) used.add('chromium');
      expect(relative(ROOT, file)).not.toMatch(/^node_modules/);
    }
    // bash runs the script itself; node (and npm, which comes with it) is what runs the tests;
    // mount and umount are util-linux, part of every Debian/Ubuntu base system (and the disk-full test falls
    // back to an injected ENOSPC where mounting is not allowed).
    for (const always of ['bash', 'npm', 'mount', 'umount']) used.delete(always);
    expect([...used].sort()).toEqual(expect.arrayContaining(['chromium', 'git', 'shellcheck']));
    for (const cmd of used) expect(deps.has(cmd), `tests start "${cmd}" but install-system-deps.sh does not install it`).toBe(true);
  });
});

describe('scripts/install-system-deps.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'easel-sysdeps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A PATH of stubs: each named program logs its arguments and succeeds. */
  function stubs(names: string[], uid: string): { bin: string; log: string } {
    const bin = join(dir, `bin-${Math.random().toString(36).slice(2)}`);
    mkdirSync(bin);
    const log = join(bin, 'calls.log');
    for (const name of names) {
      writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    // The real `env` (coreutils, on every system) runs apt-get with DEBIAN_FRONTEND set.
    symlinkSync(ENV, join(bin, 'env'));
    writeFileSync(join(bin, 'id'), `#!/bin/sh\necho ${uid}\n`);
    chmodSync(join(bin, 'id'), 0o755);
    writeFileSync(log, '');
    return { bin, log };
  }

  const which = (cmd: string): string => spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
  const bash = which('bash');
  const ENV = which('env');
  const run = (bin: string, args: string[] = []) => spawnSync(bash, [SCRIPT, ...args], { encoding: 'utf8', env: { PATH: bin } });

  it('does nothing when every package is there', () => {
    const { bin, log } = stubs(['chromium', 'shellcheck', 'git', 'apt-get'], '0');
    const r = run(bin);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toBe('');
  });

  it('--check names what is missing and the command that installs it, in one line', () => {
    const { bin, log } = stubs(['git', 'apt-get'], '0');
    const r = run(bin, ['--check']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('missing system packages: chromium shellcheck; install them with: bash scripts/install-system-deps.sh (apt-get as root or through sudo)\n');
    expect(readFileSync(log, 'utf8')).toBe('');
  });

  it('installs what is missing with apt-get as root, or through sudo', () => {
    const root = stubs(['chromium', 'git', 'apt-get'], '0');
    expect(run(root.bin).status).toBe(0);
    expect(readFileSync(root.log, 'utf8')).toBe('apt-get update -qq\napt-get install -y -qq shellcheck\n');
    expect(spawnSync(bash, [SCRIPT], { encoding: 'utf8', env: { PATH: root.bin } }).stderr).toMatch(/^installing shellcheck with apt-get\n$/);
    const user = stubs(['chromium', 'shellcheck', 'apt-get', 'sudo'], '1000');
    expect(run(user.bin).status).toBe(0);
    expect(readFileSync(user.log, 'utf8')).toBe('sudo apt-get update -qq\nsudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git\n');
    const stuck = stubs(['chromium', 'shellcheck', 'apt-get'], '1000');
    const r = run(stuck.bin);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('missing system packages: git; run as root: apt-get install -y git\n');
  });
});

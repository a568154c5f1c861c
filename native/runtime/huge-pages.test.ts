import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HUGE_PAGE_TUNABLE, withHugePages } from './huge-pages.js';

describe('withHugePages', () => {
  it('adds the malloc tunable on Linux, after any other tunables', () => {
    expect(withHugePages({ PATH: '/bin' }, 'linux')).toEqual({ PATH: '/bin', GLIBC_TUNABLES: HUGE_PAGE_TUNABLE });
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux').GLIBC_TUNABLES).toBe(`glibc.malloc.arena_max=2:${HUGE_PAGE_TUNABLE}`);
  });

  it("keeps the user's own hugetlb value, honours EASEL_HUGE_PAGES=0, and leaves other platforms alone", () => {
    const own = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=2' };
    expect(withHugePages(own, 'linux')).toEqual(own);
    expect(withHugePages({ EASEL_HUGE_PAGES: '0' }, 'linux')).toEqual({ EASEL_HUGE_PAGES: '0' });
    expect(withHugePages({ PATH: 'x' }, 'darwin')).toEqual({ PATH: 'x' });
    expect(withHugePages({ PATH: 'x' }, 'win32')).toEqual({ PATH: 'x' });
  });
});

describe('reexecWithHugePages', () => {
  // A script that re-runs itself: the second run sees the tunable, prints it and exits 3; the
  // first must pass the output and the exit status through unchanged.
  it.runIf(process.platform === 'linux')('re-runs a script once with the tunable and passes its output and status through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'easel-hugepages-'));
    try {
      const script = join(dir, 'probe.mjs');
      const mod = pathToFileURL(join(import.meta.dirname, 'huge-pages.ts')).href;
      writeFileSync(script, `const { reexecWithHugePages } = await import(${JSON.stringify(mod)});\nreexecWithHugePages();\nconsole.log(process.env.GLIBC_TUNABLES);\nprocess.exit(3);\n`);
      const env = { ...process.env };
      delete env.GLIBC_TUNABLES;
      delete env.EASEL_HUGE_PAGES;
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { env, encoding: 'utf8' });
      expect(r.status).toBe(3);
      expect(r.stdout.trim().split('\n')).toEqual([HUGE_PAGE_TUNABLE]);
      const off = spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...env, EASEL_HUGE_PAGES: '0' }, encoding: 'utf8' });
      expect(off.stdout.trim()).toBe('undefined');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Transparent huge pages for engine processes. Loading a model and running ORT touch gigabytes of
// fresh memory; with 4 KiB pages every first touch is a page fault, and on virtual machines a fault
// costs ~10 µs (measured on the 2-core benchmark VM: touching a new 200 MB Float32Array 765 ms with
// 4 KiB pages, 26–45 ms with huge pages). glibc ≥ 2.35 has the tunable `glibc.malloc.hugetlb=1`,
// which makes malloc advise transparent huge pages (MADV_HUGEPAGE) on the memory it maps: ORT's
// allocations and V8's ArrayBuffer backing stores both come from there. Measured with the full-size
// SD1.5 UNet: checkpoint → ready session 66 s → 24 s without the load cache, 88 s → 33 s for a
// first cached load, 9.0 s → 4.9 s for a cached one (docs/engine-speed.md).
//
// glibc reads tunables once, at process start, so the variable must be in the environment of the
// process that runs the engine: the server sets it for the engine worker it forks, and the engine
// CLIs re-run themselves once with it. Elsewhere (macOS, Windows, musl) the variable is ignored, and
// where the kernel's THP mode is `never` it changes nothing. EASEL_HUGE_PAGES=0 turns it off.
import { spawnSync } from 'node:child_process';

export const HUGE_PAGE_TUNABLE = 'glibc.malloc.hugetlb=1';

/** True when `env` already says what malloc should do about huge pages (ours or the user's value). */
function tunableSet(env: NodeJS.ProcessEnv): boolean {
  return (env.GLIBC_TUNABLES ?? '').split(':').some((t) => t.startsWith('glibc.malloc.hugetlb='));
}

/** True when huge pages are wanted for an engine process started with `env` on `platform`. */
function wanted(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && env.EASEL_HUGE_PAGES !== '0';
}

/**
 * `env` plus the huge-page tunable, for a child process that will run the engine. Other tunables
 * and a hugetlb value the user set themselves are kept.
 *
 * @example fork(entry, [], { env: withHugePages({ ...process.env, EASEL_WORKER: '1' }) })
 */
export function withHugePages(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv {
  if (!wanted(env, platform) || tunableSet(env)) return env;
  const current = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${HUGE_PAGE_TUNABLE}` : HUGE_PAGE_TUNABLE };
}

/**
 * For command-line scripts that run the engine in their own process: when this process started
 * without the tunable (and it is wanted), runs the same command again with it, waits, and exits
 * with its status; otherwise returns. Call it first thing, before any output or work.
 */
export function reexecWithHugePages(): void {
  if (!wanted(process.env, process.platform) || tunableSet(process.env)) return;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: withHugePages(process.env) });
  if (r.error) return; // could not re-run: carry on in this process, only slower
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

// Makes the engine worker die with its parent. `session.run()` blocks the worker's JS thread for
// a whole step (seconds on a CPU), so an IPC 'disconnect' handler cannot run until the step ends;
// after a SIGKILL of the server a quick restart could then hold two models on one GPU. A tiny
// worker thread, which runs while the main thread is blocked, polls the parent pid and SIGKILLs
// its own process the moment the parent is gone (the orphan is re-parented, so ppid changes).
import { Worker } from 'node:worker_threads';

/** How often the thread looks at the parent pid. */
export const PARENT_POLL_MS = 100;

// Plain CommonJS evaluated in the thread (no loader needed): `process.ppid` asks the OS each time.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const timer = setInterval(() => {
  if (process.ppid !== workerData.parent) {
    clearInterval(timer);
    process.kill(workerData.self, 'SIGKILL');
  }
}, workerData.pollMs);
`;

/**
 * Starts the watchdog (once per process); returns a stop function. The thread is unref'd, so it
 * never keeps a finished worker alive.
 *
 * @example if (process.send) watchParent()
 */
export function watchParent(pollMs = PARENT_POLL_MS): () => void {
  const parent = process.ppid;
  // Already orphaned (the parent died before we got here): nothing to wait for.
  if (parent <= 1) process.kill(process.pid, 'SIGKILL');
  const thread = new Worker(THREAD_SOURCE, { eval: true, workerData: { parent, self: process.pid, pollMs } });
  thread.unref();
  return () => void thread.terminate();
}

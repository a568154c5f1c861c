// A stand-in server process for the orphan test: starts the engine supervisor with the fake
// worker, starts one job whose steps block the worker's JS thread, prints `running`, and waits
// to be killed.
import { pino } from 'pino';
import { EngineSupervisor } from '../../engine/supervisor.js';
import { FAKE_WORKER } from '../helpers.js';

const supervisor = new EngineSupervisor({
  entry: FAKE_WORKER,
  logger: pino({ level: 'silent' }),
  env: { FAKE_BLOCK_MS: process.env.FAKE_BLOCK_MS ?? '30000', FAKE_PID_FILE: process.env.FAKE_PID_FILE ?? '' },
});
await supervisor.start();
void supervisor
  .run('orphan-job', 'generate', { steps: 3 }, { signal: new AbortController().signal, previewEvery: 0, onProgress: () => {}, onPreview: () => {} })
  .catch(() => {});
process.stdout.write('running\n');
setInterval(() => {}, 60_000);

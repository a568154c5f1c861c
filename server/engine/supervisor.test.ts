import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { HUGE_PAGE_TUNABLE } from '../../native/runtime/huge-pages.js';
import { EngineSupervisor, type RunCallbacks } from './supervisor.js';
import { FAKE_WORKER } from '../test/helpers.js';

const logger = pino({ level: 'silent' });

function callbacks(signal = new AbortController().signal) {
  const steps: number[] = [];
  const phases: string[] = [];
  const previews: Uint8Array[] = [];
  const cb: RunCallbacks = {
    signal,
    previewEvery: 2,
    onProgress: (s, _t, p) => {
      // Step messages (sampling); a phase change alone repeats the last step.
      if (p?.phase !== phases.at(-1)) phases.push(p?.phase ?? '');
      else steps.push(s);
    },
    onPreview: (_s, j) => previews.push(j),
  };
  return { cb, steps, phases, previews };
}

describe('EngineSupervisor', () => {
  let sup: EngineSupervisor | undefined;
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
  });

  it('relays progress, binary previews and results from the worker', async () => {
    sup = new EngineSupervisor({ entry: FAKE_WORKER, logger, env: { FAKE_STEP_MS: '5' } });
    await sup.start();
    expect(sup.capabilities).toEqual({ generate: true, upscale: false, adetailer: false });
    const { cb, steps, phases, previews } = callbacks();
    const out = await sup.run('j1', 'generate', { steps: 4, width: 32, height: 16, seed: 9, batch_size: 2 }, cb);
    expect(steps).toEqual([0, 1, 2, 3, 4]);
    expect(phases).toEqual(['loading_model', 'encoding', 'sampling', 'decoding']);
    expect(previews).toHaveLength(2);
    expect(previews[0]).toBeInstanceOf(Uint8Array);
    expect(out.images.map((i) => [i.width, i.height, i.seed])).toEqual([[32, 16, 9], [32, 16, 10]]);
    expect([...out.images[0]!.png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]); // "PNG"
  });

  // Huge pages cut the engine's load time by ~3× on VMs (native/runtime/huge-pages.ts); glibc only
  // reads the tunable at start, so it must be in the forked worker's environment.
  it.runIf(process.platform === 'linux')('starts the worker with the huge-page malloc tunable', async () => {
    sup = new EngineSupervisor({ entry: FAKE_WORKER, logger, env: { FAKE_STEP_MS: '5', EASEL_HUGE_PAGES: '' } });
    await sup.start();
    const environ = readFileSync(`/proc/${sup.workerPid}/environ`, 'utf8').split('\0');
    expect(environ.find((v) => v.startsWith('GLIBC_TUNABLES='))?.split('=').slice(1).join('=').split(':')).toContain(HUGE_PAGE_TUNABLE);
  });

  it('kills a worker that ignores cancel after the grace period, reports cancelled, and restarts', async () => {
    sup = new EngineSupervisor({ entry: FAKE_WORKER, logger, env: { FAKE_STEP_MS: '50', FAKE_IGNORE_CANCEL: '1' }, cancelGraceMs: 300, restartDelaysMs: [10] });
    await sup.start();
    const controller = new AbortController();
    const { cb, steps } = callbacks(controller.signal);
    const run = sup.run('stuck', 'generate', { steps: 150 }, cb);
    while (steps.length < 2) await new Promise((r) => setTimeout(r, 20));
    const t = Date.now();
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - t).toBeLessThan(5000);
    const next = callbacks();
    const out = await sup.run('after', 'generate', { steps: 1 }, next.cb);
    expect(out.images).toHaveLength(1);
    expect(sup.starts).toBe(2);
  });

  it('fails the running job with engine_crashed when the worker dies', async () => {
    sup = new EngineSupervisor({ entry: FAKE_WORKER, logger, env: { FAKE_STEP_MS: '50' }, restartDelaysMs: [10] });
    await sup.start();
    const { cb, steps } = callbacks();
    const run = sup.run('victim', 'generate', { steps: 150 }, cb);
    while (steps.length < 1) await new Promise((r) => setTimeout(r, 20));
    sup.killWorker();
    await expect(run).rejects.toMatchObject({ code: 'engine_crashed', message: expect.stringContaining('signal SIGKILL') });
  });
});

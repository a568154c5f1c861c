import { describe, expect, it } from 'vitest';
import {
  alphasCumprodFromConfig,
  ddimTimesteps,
  getSigmas,
  img2imgSigmas,
  modelScheduleFromAlphasCumprod,
  schedulerSigmas,
  sigmaToT,
  simpleSigmas,
  tToSigma,
  type ModelSchedule,
} from './schedules.js';
import { resolveSampler, findScheduler } from './names.js';
import { readJson, readTensors, samplerRuns, type SigmasFixture } from './test/fixture-data.js';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';

const fx = readJson<SigmasFixture>('sigmas.json');
const REL = 1e-6;

function expectRelClose(got: ArrayLike<number>, want: readonly number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `index ${i}: got ${got[i]}, want ${want[i]}`).toBeLessThanOrEqual(REL * Math.abs(want[i]));
  }
}

async function checkpointSchedule(): Promise<ModelSchedule> {
  const f = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
  try {
    return modelScheduleFromAlphasCumprod(await f.readFloat32('alphas_cumprod'));
  } finally {
    await f.close();
  }
}

const schedule = await checkpointSchedule();
const configSchedule = modelScheduleFromAlphasCumprod(alphasCumprodFromConfig({ linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 }));

describe('model sigmas', () => {
  it('from the checkpoint alphas_cumprod equal model_sigmas_1000 exactly', () => {
    expect(Array.from(schedule.sigmas)).toEqual(fx.model_sigmas_1000);
    expect(schedule.sigmaMin).toBe(fx.sigma_min);
    expect(schedule.sigmaMax).toBe(fx.sigma_max);
  });

  it('from the schedule config (float64 betas) equal the checkpoint buffer', () => {
    expectRelClose(configSchedule.sigmas, fx.model_sigmas_1000);
  });
});

describe('sigma_to_t / t_to_sigma', () => {
  for (const { sigma, t } of fx.sigma_to_t) {
    it(`sigma_to_t(${sigma}) = ${t}`, () => {
      expect(Math.abs(sigmaToT(schedule, sigma) - t)).toBeLessThanOrEqual(REL * Math.max(1, t));
    });
  }
  for (const { t, sigma } of fx.t_to_sigma) {
    it(`t_to_sigma(${t}) = ${sigma}`, () => {
      expect(Math.abs(tToSigma(schedule, t) - sigma)).toBeLessThanOrEqual(REL * sigma);
    });
  }
});

describe('schedulers against sigmas.json', () => {
  const lists: [string, () => Float32Array][] = [
    ['default_get_sigmas_20', () => schedulerSigmas('uniform', schedule, 20)],
    ['default_get_sigmas_5', () => schedulerSigmas('uniform', schedule, 5)],
    ['karras_20_rho7', () => schedulerSigmas('karras', schedule, 20)],
    ['karras_5_rho7', () => schedulerSigmas('karras', schedule, 5)],
    ['exponential_20', () => schedulerSigmas('exponential', schedule, 20)],
    ['exponential_5', () => schedulerSigmas('exponential', schedule, 5)],
    ['a1111_normal_20', () => schedulerSigmas('normal', schedule, 20)],
    ['a1111_normal_5', () => schedulerSigmas('normal', schedule, 5)],
    ['a1111_sgm_uniform_20', () => schedulerSigmas('sgm_uniform', schedule, 20)],
  ];
  for (const [name, make] of lists) {
    it(name, () => expectRelClose(make(), fx[name] as number[]));
  }

  it('automatic resolves to each sampler default (Euler → uniform, DPM++ 2M → karras)', () => {
    expectRelClose(getSigmas('euler', 'automatic', 20, schedule), fx.default_get_sigmas_20 as number[]);
    expectRelClose(getSigmas('dpmpp_2m', 'automatic', 20, schedule), fx.karras_20_rho7 as number[]);
    expectRelClose(getSigmas('dpmpp_2m_sde', 'automatic', 5, schedule), fx.exponential_5 as number[]);
  });

  it('the config-derived schedule gives the same lists', () => {
    expectRelClose(schedulerSigmas('karras', configSchedule, 20), fx.karras_20_rho7 as number[]);
    expectRelClose(schedulerSigmas('uniform', configSchedule, 20), fx.default_get_sigmas_20 as number[]);
  });
});

describe('other scheduler rules', () => {
  it('simple takes every (T/n)-th sigma from the top', () => {
    const s = simpleSigmas(schedule, 4);
    expect(Array.from(s)).toEqual([schedule.sigmas[999], schedule.sigmas[749], schedule.sigmas[499], schedule.sigmas[249], 0]);
    const s3 = simpleSigmas(schedule, 3); // stride 333.33…: indices 999, 666, 333
    expect(Array.from(s3)).toEqual([schedule.sigmas[999], schedule.sigmas[666], schedule.sigmas[333], 0]);
  });

  it('DPM2 drops the penultimate sigma of a steps + 1 list', () => {
    const long = schedulerSigmas('karras', schedule, 6);
    const got = getSigmas('dpm2', 'automatic', 5, schedule);
    expect(Array.from(got)).toEqual([...Array.from(long.subarray(0, 5)), 0]);
    expect(got.length).toBe(6);
  });

  it('DDIM timesteps follow 1000 // steps', () => {
    expect(Array.from(ddimTimesteps(6))).toEqual([1, 167, 333, 499, 665, 831, 997]);
    expect(Array.from(ddimTimesteps(5))).toEqual([1, 201, 401, 601, 801]);
  });

  it('img2img runs t_enc + 1 steps, t_enc = floor(min(strength, 0.999)·steps) (A1111)', () => {
    const full = schedulerSigmas('uniform', schedule, 20);
    const tail = img2imgSigmas(full, 0.5); // t_enc 10 → sigmas[9:], 11 steps
    expect(tail.length).toBe(12);
    expect(tail[0]).toBe(full[9]);
    expect(img2imgSigmas(full, 1).length).toBe(21); // 0.999·20 → t_enc 19 → the whole list
  });

  it('rejects bad step counts', () => {
    expect(() => getSigmas('euler', 'uniform', 0, schedule)).toThrow(/steps/);
  });
});

describe('every sampler run of cases.json', async () => {
  const runs = samplerRuns();
  for (const run of runs) {
    it(`${run.name}: ${run.sampler} / ${run.scheduler}, ${run.steps} steps`, () => {
      const sampler = resolveSampler(run.sampler)!.sampler;
      const scheduler = findScheduler(run.scheduler)!.id;
      if (run.timesteps) {
        expect(sampler.id).toBe('ddim');
        expect(Array.from(ddimTimesteps(run.steps))).toEqual(run.timesteps);
      } else {
        expectRelClose(getSigmas(sampler.id, scheduler, run.steps, schedule), run.sigmas!);
      }
    });
  }
  // The sampler tensors must exist for the runs listed (guards against a silently empty loop).
  const t = await readTensors('samplers.safetensors', 'euler.');
  it('lists the runs that samplers.safetensors holds', () => {
    expect(runs.length).toBe(9);
    expect(t.has('euler.x_per_step')).toBe(true);
  });
});

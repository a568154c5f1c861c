// The hires plan against A1111 (sd1-hires cases.json / e2e.json): target size and crop, second pass
// steps and sigma slice, sampler/scheduler defaults, and the infotext items in A1111's order.
import { describe, expect, it } from 'vitest';
import { findScheduler, resolveSampler } from '../sampling/names.js';
import { getSigmas, alphasCumprodFromConfig, modelScheduleFromAlphasCumprod } from '../sampling/schedules.js';
import { cropLatent, hiresTarget, planHires, type FirstPassInfo } from './hires.js';
import type { HiresOptions } from './types.js';
import { hiresCases, hiresE2eCases, type HiresE2eCase } from './test/hires-fixture.js';

const schedule = modelScheduleFromAlphasCumprod(alphasCumprodFromConfig({ linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 }));

function firstOf(c: HiresE2eCase): FirstPassInfo {
  const s = resolveSampler(c.sampler_name)!;
  return {
    width: c.width, height: c.height, steps: c.steps, sampler: s.sampler.id,
    scheduler: findScheduler(c.scheduler)!.id, prompt: c.prompt, negativePrompt: c.negative_prompt,
  };
}

function hiresOf(c: HiresE2eCase): HiresOptions {
  return {
    enabled: true, scale: c.hr_scale, width: c.hr_resize_x, height: c.hr_resize_y, upscaler: c.hr_upscaler,
    steps: c.hr_second_pass_steps, denoising_strength: c.denoising_strength,
    sampler: c.hr_sampler_name ? resolveSampler(c.hr_sampler_name)!.sampler.id : undefined,
    scheduler: c.hr_scheduler ? findScheduler(c.hr_scheduler)!.id : undefined,
    prompt: c.hr_prompt, negative_prompt: c.hr_negative_prompt,
  };
}

describe('planHires against the fixture cases', () => {
  const truth = new Map(hiresCases().map((c) => [c.name, c]));
  for (const c of hiresE2eCases()) {
    it(c.name, () => {
      const t = truth.get(c.name)!;
      const plan = planHires({ schedule }, firstOf(c), hiresOf(c), (n) => n === 'compact_x4');
      expect([plan.target.toX, plan.target.toY]).toEqual(t.hr_upscale_to);
      expect([plan.target.truncateX, plan.target.truncateY]).toEqual(t.truncate_xy);
      expect([plan.target.width, plan.target.height]).toEqual(t.final_size);
      expect(plan.latentMode === null).toBe(t.upscale_kind === 'model');
      expect([plan.steps, plan.stepsTotal, plan.tEnc]).toEqual([t.requested_steps, t.steps_total, t.t_enc]);
      expect(plan.plannedSteps).toBe(t.sigma_sched.length - 1);
      const sigmas = getSigmas(plan.sampler, plan.scheduler, plan.stepsTotal, schedule);
      const sched = sigmas.slice(plan.stepsTotal - plan.tEnc - 1);
      expect(sched.length).toBe(t.sigma_sched.length);
      sched.forEach((v, i) => expect(v).toBeCloseTo(t.sigma_sched[i]!, 4));
      // Infotext items after RNG, in A1111's insertion order.
      const items = Object.entries((t as unknown as { infotext_items: Record<string, string | number> }).infotext_items).filter(([k]) => k.startsWith('Hires '));
      expect(plan.infotext.map(([k, v]) => [k, typeof v === 'string' && /^\d+\.\d+$/.test(v) ? Number(v) : v])).toEqual(items);
    });
  }
});

describe('hiresTarget (A1111 calculate_target_resolution)', () => {
  it('scale truncates the product', () => expect(hiresTarget(64, 96, { scale: 1.3 })).toMatchObject({ toX: 83, toY: 124, width: 80, height: 120 }));
  it('only hr_resize_x keeps the aspect ratio with a floor', () => expect(hiresTarget(64, 96, { scale: 2, width: 100, height: 0 })).toMatchObject({ toX: 100, toY: 150, truncateX: 0, truncateY: 0 }));
  it('only hr_resize_y', () => expect(hiresTarget(96, 64, { scale: 2, width: 0, height: 100 })).toMatchObject({ toX: 150, toY: 100 }));
  it('both: cover the box, then crop the overhang (wider box)', () =>
    expect(hiresTarget(64, 64, { scale: 2, width: 128, height: 96 })).toMatchObject({ toX: 128, toY: 128, truncateX: 0, truncateY: 4, width: 128, height: 96 }));
});

describe('cropLatent', () => {
  it('cuts ty//2 rows on top and (ty+1)//2 at the bottom of every plane', () => {
    const data = Float32Array.from({ length: 2 * 5 * 2 }, (_, i) => i);
    const out = cropLatent(data, 2, 5, 2, 0, 3);
    expect([out.h, out.w]).toEqual([2, 2]);
    expect([...out.data]).toEqual([2, 3, 4, 5, 12, 13, 14, 15]);
  });
});

describe('planHires refusals', () => {
  const first: FirstPassInfo = { width: 64, height: 64, steps: 4, sampler: 'euler', scheduler: 'automatic', prompt: 'a', negativePrompt: '' };
  const base: HiresOptions = { enabled: true, scale: 2, denoising_strength: 0.5 };
  it('an unknown upscaler name', () => expect(() => planHires({ schedule }, first, { ...base, upscaler: 'nope' }, () => false)).toThrow(/could not find upscaler named "nope"/));
  it('denoising strength 0', () => expect(() => planHires({ schedule }, first, { ...base, denoising_strength: 0 }, () => false)).toThrow(/denoising_strength/));
  it('negative steps', () => expect(() => planHires({ schedule }, first, { ...base, steps: -1 }, () => false)).toThrow(/steps/));
  it('the built-in image upscalers need no file', () => {
    for (const name of ['None', 'Lanczos', 'Nearest']) expect(planHires({ schedule }, first, { ...base, upscaler: name }, () => false).latentMode).toBeNull();
  });
});

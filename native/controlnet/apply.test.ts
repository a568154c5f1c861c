// The injection rules of hook.py that the fixture cases pin down only indirectly: the soft-injection
// scales and the lagging guidance step with samplers that call the model twice per step.
import { describe, expect, it } from 'vitest';
import { ControlNetRun, controlScales, type PreparedControlUnit } from './apply.js';

describe('controlScales', () => {
  it('is the weight everywhere without soft injection', () => {
    expect(controlScales(0.6, false, 13)).toEqual(new Array(13).fill(0.6));
  });
  it('is weight·0.825^(12−i) with soft injection (middle block: the full weight)', () => {
    const s = controlScales(2, true, 13);
    expect(s[12]).toBe(2);
    expect(s[11]).toBeCloseTo(1.65, 12);
    expect(s[0]).toBeCloseTo(2 * 0.825 ** 12, 12);
  });
  it('SDXL (10 residuals) keeps the first 10 of the 13 SD1 scales, as the extension slices them', () => {
    expect(controlScales(1, true, 10)).toEqual(controlScales(1, true, 13).slice(0, 10));
  });
});

describe('ControlNetRun guidance window', () => {
  const unit = (start: number, end: number) => ({ guidanceStart: start, guidanceEnd: end }) as PreparedControlUnit;
  it('uses the last completed step callback: a two-call sampler sees 0, 0, 0, 0.25, …', () => {
    const run = new ControlNetRun([unit(0, 1), unit(0.25, 1), unit(0, 0.2)], 4);
    const seen: number[][] = [];
    // Heun-like: two model calls per step, the callback after the first call of each step.
    for (let step = 0; step < 4; step++) {
      seen.push(run.activeUnits());
      run.onStep(step);
      seen.push(run.activeUnits());
    }
    expect(seen).toEqual([[0, 2], [0, 2], [0, 2], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
  });
});

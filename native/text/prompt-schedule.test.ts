import { describe, expect, it } from 'vitest';
import { loadPromptFixtures } from './test/fixture-data.js';
import {
  getLearnedConditioningPromptSchedules,
  getMulticondPromptList,
  getPromptSchedule,
  scheduleIndexAt,
} from './prompt-schedule.js';

const fx = loadPromptFixtures();

describe('prompt schedules (prompts.json, exact)', () => {
  it('has the expected number of cases', () => {
    expect(fx.schedules_steps20.length).toBe(20);
    expect(fx.schedules_steps20_use_old_scheduling.length).toBe(4);
    expect(fx.schedules_steps20_hires_steps10.length).toBe(4);
  });

  for (const c of fx.schedules_steps20) {
    it(`steps 20: ${JSON.stringify(c.text)}`, () => {
      expect(getPromptSchedule(c.text, 20)).toEqual(c.schedule);
    });
  }
  for (const c of fx.schedules_steps20_use_old_scheduling) {
    it(`old scheduling: ${JSON.stringify(c.text)}`, () => {
      expect(getPromptSchedule(c.text, 20, { useOldScheduling: true })).toEqual(c.schedule);
    });
  }
  for (const c of fx.schedules_steps20_hires_steps10) {
    it(`hires 10: ${JSON.stringify(c.text)}`, () => {
      expect(getPromptSchedule(c.text, 20, { hiresSteps: 10 })).toEqual(c.schedule);
    });
  }

  it('batches prompts like get_learned_conditioning_prompt_schedules', () => {
    const [a, b] = getLearnedConditioningPromptSchedules(['[cat:dog:0.5]', 'plain'], 20);
    expect(a).toEqual([[10, 'cat'], [20, 'dog']]);
    expect(b).toEqual([[20, 'plain']]);
  });
});

// The doctests of A1111's prompt_parser.py (steps 10), which exercise whitespace and nesting rules.
describe('A1111 doctest cases', () => {
  const g = (p: string) => getPromptSchedule(p, 10);
  it.each([
    ['test', [[10, 'test']]],
    ['a [b:3]', [[3, 'a '], [10, 'a b']]],
    ['a [b: 3]', [[3, 'a '], [10, 'a b']]],
    ['a [[[b]]:2]', [[2, 'a '], [10, 'a [[b]]']]],
    ['[(a:2):3]', [[3, ''], [10, '(a:2)']]],
    ['a [b : c : 1] d', [[1, 'a b  d'], [10, 'a  c  d']]],
    ['a[b:[c:d:2]:1]e', [[1, 'abe'], [2, 'ace'], [10, 'ade']]],
    ['a [unbalanced', [[10, 'a [unbalanced']]],
    ['a [b:.5] c', [[5, 'a  c'], [10, 'a b c']]],
    ['((a][:b:c [d:3]', [[3, '((a][:b:c '], [10, '((a][:b:c d']]],
  ] as Array<[string, Array<[number, string]>]>)('%j', (p, expected) => {
    expect(g(p)).toEqual(expected);
  });

  it('alternates with emphasis inside and empty options', () => {
    expect(g('[a|(b:1.1)]').map((e) => e[1])).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'a' : '(b:1.1)')));
    expect(g('[fe|||]male').map((e) => e[1]).slice(0, 5)).toEqual(['female', 'male', 'male', 'male', 'female']);
  });

  it('uses the text verbatim when the grammar rejects it', () => {
    expect(g('a | b [c:d:3]')).toEqual([[10, 'a | b [c:d:3]']]);
    expect(g('trailing \\')).toEqual([[10, 'trailing \\']]);
  });

  it('keeps escapes for the attention parser', () => {
    expect(g('\\[a:b:3\\]')).toEqual([[10, '\\[a:b:3\\]']]);
  });

  it('hires scheduling: fractions over 1..2, integers after the first pass', () => {
    expect(getPromptSchedule('a [b:.5] c', 10, { hiresSteps: 10 })).toEqual([[10, 'a b c']]);
    expect(getPromptSchedule('a [b:1.5] c', 10, { hiresSteps: 10 })).toEqual([[5, 'a  c'], [10, 'a b c']]);
  });
});

describe('scheduleIndexAt', () => {
  it('picks the first entry whose end is at or after the step', () => {
    expect(scheduleIndexAt([10, 20], 0)).toBe(0);
    expect(scheduleIndexAt([10, 20], 10)).toBe(0);
    expect(scheduleIndexAt([10, 20], 11)).toBe(1);
    expect(scheduleIndexAt([10, 20], 25)).toBe(0);
  });
});

describe('getMulticondPromptList (prompts.json, exact)', () => {
  for (const c of fx.multicond_AND) {
    it(JSON.stringify(c.text), () => {
      const r = getMulticondPromptList([c.text]);
      expect(r.flat).toEqual(c.subprompts);
      expect(r.indexes).toEqual([c.indexes_weights]);
    });
  }

  it('shares identical sub-prompts across prompts', () => {
    const r = getMulticondPromptList(['x AND y', 'y AND z:2', ' y']);
    expect(r.flat).toEqual(['x', ' y', 'y', ' z']);
    expect(r.indexes).toEqual([[[0, 1], [1, 1]], [[2, 1], [3, 2]], [[1, 1]]]);
  });
});

import { describe, expect, it } from 'vitest';
import { observePartLoads, reportPartLoad, reportWeightsRead, type PartLoadEvent } from './load-events.js';

describe('part load events', () => {
  it('reports each stage, weight reading in steps between them, and nothing once unobserved', () => {
    const seen: PartLoadEvent[] = [];
    const stop = observePartLoads((e) => seen.push(e));
    reportPartLoad('unet', 'graph');
    reportPartLoad('unet', 'weights');
    for (let i = 1; i <= 100; i++) reportWeightsRead(i, 100);
    reportPartLoad('unet', 'session');
    // Not between 'weights' and 'session' any more: ignored.
    reportWeightsRead(1, 1);
    reportPartLoad('unet', 'ready');
    stop();
    reportPartLoad('vae-decoder', 'graph');
    const fractions = seen.map((e) => e.fraction);
    expect(seen.map((e) => e.stage).filter((s, i, a) => s !== a[i - 1])).toEqual(['graph', 'weights', 'session', 'ready']);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    const reading = seen.filter((e) => e.stage === 'weights');
    // 0.05 → 0.5 in steps of at least 0.05: about nine updates, the last one at 0.5.
    expect(reading.length).toBeGreaterThanOrEqual(8);
    expect(reading.length).toBeLessThanOrEqual(11);
    expect(reading.at(-1)!.fraction).toBeCloseTo(0.5);
    expect(seen.every((e) => e.part === 'unet')).toBe(true);
  });

  it('a throwing listener never breaks a load', () => {
    const stop = observePartLoads(() => {
      throw new Error('display broke');
    });
    expect(() => reportPartLoad('unet', 'weights')).not.toThrow();
    expect(() => reportWeightsRead(1, 1)).not.toThrow();
    stop();
  });
});

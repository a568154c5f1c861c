import { describe, expect, it } from 'vitest';
import { BrownianPath, brownianNoise } from './brownian.js';

const N = 20_000;

function stats(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    sq += a[i] * a[i];
  }
  const mean = s / a.length;
  return { mean, variance: sq / a.length - mean * mean };
}

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('BrownianPath', () => {
  const tree = new BrownianPath(1234, N, 0.03, 14.6);

  it('starts at 0 and has Var W(t) = t − t0', () => {
    expect(Array.from(tree.value(0.03)).every((v) => v === 0)).toBe(true);
    for (const t of [0.5, 3.7, 14.6]) {
      const { mean, variance } = stats(tree.value(t));
      expect(Math.abs(mean)).toBeLessThan(0.05 * Math.sqrt(t));
      expect(variance / (t - 0.03)).toBeGreaterThan(0.95);
      expect(variance / (t - 0.03)).toBeLessThan(1.05);
    }
  });

  it('is deterministic per seed for the same queries, and returns known points unchanged', () => {
    const a = new BrownianPath(77, 64, 0.03, 14.6);
    const b = new BrownianPath(77, 64, 0.03, 14.6);
    const c = new BrownianPath(78, 64, 0.03, 14.6);
    const qa = [1.1, 7.3, 0.2].map((t) => Array.from(a.value(t)));
    const qb = [1.1, 7.3, 0.2].map((t) => Array.from(b.value(t)));
    expect(qa).toEqual(qb);
    expect(Array.from(a.value(7.3))).toEqual(qa[1]);
    expect(Array.from(c.value(1.1))).not.toEqual(qa[0]);
  });

  it('samples a new point from the bridge of its neighbours (variance (t−a)(b−t)/(b−a))', () => {
    const p = new BrownianPath(9, N, 0, 10);
    const w2 = p.value(2);
    const w6 = p.value(6);
    const w5 = p.value(5);
    const resid = w5.map((v, k) => v - (w2[k] + (3 / 4) * (w6[k] - w2[k])));
    const { variance } = stats(resid);
    expect(variance / ((3 * 1) / 4)).toBeGreaterThan(0.95);
    expect(variance / ((3 * 1) / 4)).toBeLessThan(1.05);
  });

  it('has independent increments over disjoint intervals', () => {
    // Queried out of order, so later points are bridged between earlier ones.
    const w95 = tree.value(9.5);
    const w01 = tree.value(0.1);
    const w29 = tree.value(2.9);
    const w13 = tree.value(1.3);
    const inc1 = w13.map((v, k) => v - w01[k]);
    const inc2 = w95.map((v, k) => v - w29[k]);
    expect(Math.abs(corr(inc1, inc2))).toBeLessThan(0.03);
    expect(stats(inc2).variance / (9.5 - 2.9)).toBeGreaterThan(0.95);
    expect(stats(inc2).variance / (9.5 - 2.9)).toBeLessThan(1.05);
  });
});

describe('brownianNoise', () => {
  it('gives standard normal noise per interval, consistent across adjacent intervals', () => {
    const between = brownianNoise([5], N)(0.03, 14.6);
    const whole = between(10, 2);
    const upper = between(10, 5);
    const lower = between(5, 2);
    // (W(2) − W(10))/sqrt(8) = sqrt(5/8)·upper + sqrt(3/8)·lower
    for (let k = 0; k < 50; k++) {
      expect(whole[k]).toBeCloseTo(Math.sqrt(5 / 8) * upper[k] + Math.sqrt(3 / 8) * lower[k], 4);
    }
    const { mean, variance } = stats(whole);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('gives each image of a batch its own seed, independent of batch composition', () => {
    const single = brownianNoise([43], 32)(0.03, 14.6)(4, 1);
    const batch = brownianNoise([42, 43], 32)(0.03, 14.6)(4, 1);
    expect(Array.from(batch.subarray(32))).toEqual(Array.from(single));
    expect(Array.from(batch.subarray(0, 32))).not.toEqual(Array.from(single));
  });
});

import { describe, expect, it } from 'vitest';
import { BrownianTree, brownianNoise } from './brownian.js';

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

describe('BrownianTree', () => {
  const tree = new BrownianTree(1234, N, 0.03, 14.6);

  it('starts at 0 and has Var W(t) = t − t0', () => {
    expect(Array.from(tree.value(0.03)).every((v) => v === 0)).toBe(true);
    for (const t of [0.5, 3.7, 14.6]) {
      const { mean, variance } = stats(tree.value(t));
      expect(Math.abs(mean)).toBeLessThan(0.05 * Math.sqrt(t));
      expect(variance / (t - 0.03)).toBeGreaterThan(0.95);
      expect(variance / (t - 0.03)).toBeLessThan(1.05);
    }
  });

  it('is a pure function of (seed, t): query order does not matter', () => {
    const a = new BrownianTree(77, 64, 0.03, 14.6);
    const b = new BrownianTree(77, 64, 0.03, 14.6);
    const first = [a.value(1.1), a.value(7.3), a.value(0.2)];
    const second = [b.value(0.2), b.value(7.3), b.value(1.1)];
    expect(Array.from(first[0])).toEqual(Array.from(second[2]));
    expect(Array.from(first[1])).toEqual(Array.from(second[1]));
    expect(Array.from(first[2])).toEqual(Array.from(second[0]));
  });

  it('has independent increments over disjoint intervals', () => {
    const w = [0.1, 1.3, 2.9, 9.5].map((t) => tree.value(t));
    const inc1 = w[1].map((v, k) => v - w[0][k]);
    const inc2 = w[3].map((v, k) => v - w[2][k]);
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

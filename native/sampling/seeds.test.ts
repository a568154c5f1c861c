import { describe, expect, it } from 'vitest';
import { batchSeeds, ImageNoise, RANDOM_SEED_LIMIT, resolveSeed } from './seeds.js';
import { TorchCpuGenerator } from './rng-torch-cpu.js';
import { PhiloxGenerator } from './rng-philox.js';

const PER = 4 * 8 * 8;

describe('resolveSeed', () => {
  it('keeps an explicit seed', () => {
    expect(resolveSeed(1234)).toBe(1234);
    expect(resolveSeed(0)).toBe(0);
  });

  it('turns −1 into a random seed below 4294967294', () => {
    const limits: number[] = [];
    expect(resolveSeed(-1, (limit) => (limits.push(limit), 99))).toBe(99);
    expect(limits).toEqual([4294967294]);
    for (let i = 0; i < 20; i++) {
      const s = resolveSeed(-1);
      expect(Number.isInteger(s) && s >= 0 && s < RANDOM_SEED_LIMIT).toBe(true);
    }
  });

  it('rejects fractional and negative seeds with a stable code', () => {
    expect(() => resolveSeed(1.5)).toThrow(expect.objectContaining({ code: 'bad_seed' }));
    expect(() => resolveSeed(-2)).toThrow(expect.objectContaining({ code: 'bad_seed' }));
  });
});

describe('batchSeeds', () => {
  it('gives seed + i', () => {
    expect(batchSeeds(4294967295, 3)).toEqual([4294967295, 4294967296, 4294967297]);
  });
});

describe('ImageNoise', () => {
  it('cpu: each image has its own torch generator; later draws continue it', () => {
    const rng = new ImageNoise({ seeds: [10, 11], perImage: PER, source: 'cpu' });
    const first = rng.next();
    const second = rng.next();
    const g10 = new TorchCpuGenerator(10);
    const g11 = new TorchCpuGenerator(11);
    expect(Array.from(first.subarray(0, PER))).toEqual(Array.from(g10.randn(PER)));
    expect(Array.from(first.subarray(PER))).toEqual(Array.from(g11.randn(PER)));
    expect(Array.from(second.subarray(0, PER))).toEqual(Array.from(g10.randn(PER)));
    expect(Array.from(second.subarray(PER))).toEqual(Array.from(g11.randn(PER)));
  });

  it('nv: uses A1111 philox generators with one offset per draw', () => {
    const rng = new ImageNoise({ seeds: [7], perImage: PER, source: 'nv' });
    const g = new PhiloxGenerator(7);
    expect(Array.from(rng.next())).toEqual(Array.from(g.randn(PER)));
    expect(Array.from(rng.next())).toEqual(Array.from(g.randn(PER)));
  });

  it('ENSD re-seeds the generators after the initial noise', () => {
    const rng = new ImageNoise({ seeds: [7], perImage: PER, source: 'cpu', ensd: 31337 });
    expect(Array.from(rng.next())).toEqual(Array.from(new TorchCpuGenerator(7).randn(PER)));
    expect(Array.from(rng.next())).toEqual(Array.from(new TorchCpuGenerator(7 + 31337).randn(PER)));
  });

  it('rejects an empty batch', () => {
    expect(() => new ImageNoise({ seeds: [], perImage: PER, source: 'cpu' })).toThrow(expect.objectContaining({ code: 'bad_seed' }));
  });
});

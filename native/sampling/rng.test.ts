import { describe, expect, it } from 'vitest';
import { Mt19937, TorchCpuGenerator } from './rng-torch-cpu.js';
import { PhiloxGenerator, seedKey } from './rng-philox.js';
import { maxAbsDiff, readJson, readTensors, type RngCase } from './test/fixture-data.js';

const CPU_TOL = 2e-6;
const NV_TOL = 1e-6;
const cases = readJson<{ cases: RngCase[] }>('rng.json').cases;
const N = 4 * 8 * 8;

describe('Mt19937', () => {
  it('matches the reference mt19937 output for the default seed 5489', () => {
    // The 10000th output of std::mt19937 default-seeded is 4123659995 (C++ standard, [rand.predef]).
    const mt = new Mt19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.nextU32();
    expect(v).toBe(4123659995);
  });
});

describe('TorchCpuGenerator', () => {
  for (const c of cases) {
    it(`seed ${c.seed}: first and second randn([1,4,8,8]) match torch (rng.json)`, () => {
      const g = new TorchCpuGenerator(c.seed);
      expect(maxAbsDiff(g.randn(N), c.torch_cpu_randn)).toBeLessThan(CPU_TOL);
      expect(maxAbsDiff(g.randn(N), c.torch_cpu_randn_second_call)).toBeLessThan(CPU_TOL);
    });
  }

  it('matches rng.safetensors for every seed', async () => {
    const t = await readTensors('rng.safetensors', 'cpu.');
    expect(t.size).toBe(10);
    for (const c of cases) {
      const g = new TorchCpuGenerator(c.seed);
      expect(maxAbsDiff(g.randn(N), t.get(`cpu.${c.seed}`)!.data)).toBeLessThan(CPU_TOL);
      expect(maxAbsDiff(g.randn(N), t.get(`cpu.${c.seed}.second`)!.data)).toBeLessThan(CPU_TOL);
    }
  });

  it('re-draws the tail block when n is not a multiple of 16', () => {
    // With 37 elements the first 21 come from the first two blocks, the last 16 from fresh uniforms.
    const a = new TorchCpuGenerator(5).randn(37);
    const b = new TorchCpuGenerator(5).randn(48);
    expect(Array.from(a.slice(0, 21))).toEqual(Array.from(b.slice(0, 21)));
    expect(Array.from(a.slice(21))).not.toEqual(Array.from(b.slice(21, 37)));
    for (const v of a) expect(Number.isFinite(v)).toBe(true);
  });

  it('uses the double path below 16 elements, caching the second Box–Muller value', () => {
    const g = new TorchCpuGenerator(7);
    const pair = g.randn(2);
    // Independent float64 Box–Muller from the raw mt19937 stream (u1 from the first 2 words).
    const mt = new Mt19937(7);
    const u = (): number => {
      const hi = mt.nextU32();
      const lo = mt.nextU32();
      return Number(((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << 53n) - 1n)) / 2 ** 53;
    };
    const u1 = u();
    const u2 = u();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    expect(pair[0]).toBeCloseTo(r * Math.cos(2 * Math.PI * u1), 6);
    expect(pair[1]).toBeCloseTo(r * Math.sin(2 * Math.PI * u1), 6);
  });

  it('uses the low 32 bits of a 64-bit seed', () => {
    expect(Array.from(new TorchCpuGenerator(2 ** 32 + 42).randn(16))).toEqual(Array.from(new TorchCpuGenerator(42).randn(16)));
  });
});

describe('PhiloxGenerator', () => {
  for (const c of cases) {
    it(`seed ${c.seed}: first and second randn([1,4,8,8]) match A1111 NV (rng.json)`, () => {
      const g = new PhiloxGenerator(c.seed);
      expect(maxAbsDiff(g.randn(N), c.a1111_nv_philox)).toBeLessThan(NV_TOL);
      expect(maxAbsDiff(g.randn(N), c.a1111_nv_philox_second_call)).toBeLessThan(NV_TOL);
    });
  }

  it('matches rng.safetensors for every seed', async () => {
    const t = await readTensors('rng.safetensors', 'nv.');
    for (const c of cases) {
      const g = new PhiloxGenerator(c.seed);
      expect(maxAbsDiff(g.randn(N), t.get(`nv.${c.seed}`)!.data)).toBeLessThan(NV_TOL);
      expect(maxAbsDiff(g.randn(N), t.get(`nv.${c.seed}.second`)!.data)).toBeLessThan(NV_TOL);
    }
  });

  it('splits a seed above 2^32 into low and high key words', () => {
    expect(seedKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(Array.from(new PhiloxGenerator(2 ** 32 + 5).randn(8))).not.toEqual(Array.from(new PhiloxGenerator(5).randn(8)));
  });
});

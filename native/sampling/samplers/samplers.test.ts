import { describe, expect, it } from 'vitest';
import { SamplingError } from '../errors.js';
import { brownianNoise } from '../brownian.js';
import { samplerById } from '../registry.js';
import { SAMPLER_IDS, type SamplerId } from '../names.js';
import { type DenoiseFn, type Sampler, type SampleOptions } from '../sampler.js';
import { karrasSigmas } from '../schedules.js';
import { TorchCpuGenerator } from '../rng-torch-cpu.js';
import { lmsCoefficient } from './lms.js';
import { heun } from './heun.js';
import { dpm2 } from './dpm2.js';
import { dpmppSde } from './dpmpp-sde.js';
import { dpmpp2mSde } from './dpmpp-2m-sde.js';

const N = 64;
const SIGMAS = karrasSigmas(6, 0.0292, 14.6); // 6 steps
const analytic = (x: number, sigma: number): number => (0.8 * x) / (1 + sigma * sigma) + 0.3 * Math.sin(x);
const denoiseAnalytic: DenoiseFn = async (x, sigma) => Float32Array.from(x, (v) => analytic(v, sigma));

function start(seed = 3): Float32Array {
  return new TorchCpuGenerator(seed).randn(N).map((v) => v * SIGMAS[0]);
}

function kSampler(id: SamplerId): Sampler {
  const e = samplerById(id);
  if (e.kind !== 'sigmas') throw new Error(`${id} is not a k-diffusion sampler`);
  return e.sampler;
}

function baseOptions(over: Partial<SampleOptions> = {}): SampleOptions {
  const g = new TorchCpuGenerator(11);
  return { x: start(), sigmas: SIGMAS, denoise: denoiseAnalytic, noise: () => g.randn(N), intervalNoise: brownianNoise([7], N), ...over };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('Heun and DPM2 against straightforward float64 implementations', () => {
  it('heun', async () => {
    const x0 = start();
    let x = Array.from(x0, Number);
    for (let i = 0; i < SIGMAS.length - 1; i++) {
      const s = SIGMAS[i];
      const sn = SIGMAS[i + 1];
      const d = x.map((v) => (v - analytic(v, s)) / s);
      const dt = sn - s;
      if (sn === 0) {
        x = x.map((v, k) => v + d[k] * dt);
      } else {
        const x2 = x.map((v, k) => v + d[k] * dt);
        const d2 = x2.map((v) => (v - analytic(v, sn)) / sn);
        x = x.map((v, k) => v + ((d[k] + d2[k]) / 2) * dt);
      }
    }
    const got = await heun.sample(baseOptions({ x: x0 }));
    expect(relErr(got, x)).toBeLessThan(1e-5);
  });

  it('dpm2', async () => {
    const x0 = start();
    let x = Array.from(x0, Number);
    for (let i = 0; i < SIGMAS.length - 1; i++) {
      const s = SIGMAS[i];
      const sn = SIGMAS[i + 1];
      const d = x.map((v) => (v - analytic(v, s)) / s);
      if (sn === 0) {
        x = x.map((v, k) => v + d[k] * (sn - s));
      } else {
        const mid = Math.sqrt(s * sn);
        const x2 = x.map((v, k) => v + d[k] * (mid - s));
        const d2 = x2.map((v) => (v - analytic(v, mid)) / mid);
        x = x.map((v, k) => v + d2[k] * (sn - s));
      }
    }
    const got = await dpm2.sample(baseOptions({ x: x0 }));
    expect(relErr(got, x)).toBeLessThan(1e-5);
  });
});

describe('LMS coefficients', () => {
  const sig = [14.6, 7.1, 3.3, 1.2, 0.4, 0.1, 0];
  const simpson = (f: (t: number) => number, a: number, b: number): number => {
    const n = 2000;
    const h = (b - a) / n;
    let s = f(a) + f(b);
    for (let k = 1; k < n; k++) s += (k % 2 ? 4 : 2) * f(a + k * h);
    return (s * h) / 3;
  };
  it('equal the integral of each Lagrange basis polynomial (order 1..4)', () => {
    for (let order = 1; order <= 4; order++) {
      const i = 4;
      for (let j = 0; j < order; j++) {
        const basis = (tau: number): number => {
          let p = 1;
          for (let k = 0; k < order; k++) if (k !== j) p *= (tau - sig[i - k]) / (sig[i - j] - sig[i - k]);
          return p;
        };
        expect(lmsCoefficient(order, sig, i, j)).toBeCloseTo(simpson(basis, sig[i], sig[i + 1]), 10);
      }
    }
  });
  it('sum to the step length (the basis is a partition of unity)', () => {
    const sum = [0, 1, 2, 3].reduce((acc, j) => acc + lmsCoefficient(4, sig, 5, j), 0);
    expect(sum).toBeCloseTo(sig[6] - sig[5], 12);
  });
});

describe('every sampler', () => {
  const kIds = SAMPLER_IDS.filter((id) => id !== 'ddim');
  // Model calls and generator draws per 6-step run, as k-diffusion makes them.
  const expected: Record<string, { calls: number; draws: number }> = {
    euler: { calls: 6, draws: 6 },
    euler_a: { calls: 6, draws: 5 },
    heun: { calls: 11, draws: 6 },
    dpm2: { calls: 11, draws: 6 },
    lms: { calls: 6, draws: 0 },
    dpmpp_2m: { calls: 6, draws: 0 },
    dpmpp_sde: { calls: 11, draws: 0 },
    dpmpp_2m_sde: { calls: 6, draws: 0 },
  };

  for (const id of kIds) {
    it(`${id}: model calls, noise draws, one callback per step, finite output`, async () => {
      const calls: number[] = [];
      let draws = 0;
      const steps: number[] = [];
      const g = new TorchCpuGenerator(1);
      const out = await kSampler(id).sample(
        baseOptions({
          denoise: async (x, s, callIndex) => {
            calls.push(callIndex);
            return denoiseAnalytic(x, s, callIndex);
          },
          noise: () => {
            draws++;
            return g.randn(N);
          },
          onStep: (s) => steps.push(s.index),
        }),
      );
      expect(calls).toEqual(Array.from({ length: expected[id].calls }, (_, i) => i));
      expect(draws).toBe(expected[id].draws);
      expect(steps).toEqual([0, 1, 2, 3, 4, 5]);
      expect(out.every(Number.isFinite)).toBe(true);
    });

    it(`${id}: cancel takes effect before the next model call`, async () => {
      const ac = new AbortController();
      let callsAfterAbort = 0;
      const run = kSampler(id).sample(
        baseOptions({
          signal: ac.signal,
          denoise: async (x, s, i) => {
            if (ac.signal.aborted) callsAfterAbort++;
            return denoiseAnalytic(x, s, i);
          },
          onStep: (s) => {
            if (s.index === 1) ac.abort();
          },
        }),
      );
      await expect(run).rejects.toMatchObject({ code: 'aborted' });
      expect(callsAfterAbort).toBe(0);
    });
  }
});

describe('SDE samplers', () => {
  for (const sampler of [dpmppSde, dpmpp2mSde]) {
    it(`${sampler.id}: deterministic per seed, different across seeds`, async () => {
      const a = await sampler.sample(baseOptions({ intervalNoise: brownianNoise([7], N) }));
      const b = await sampler.sample(baseOptions({ intervalNoise: brownianNoise([7], N) }));
      const c = await sampler.sample(baseOptions({ intervalNoise: brownianNoise([8], N) }));
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
    });

    it(`${sampler.id}: refuses to run without a Brownian noise source`, async () => {
      await expect(sampler.sample(baseOptions({ intervalNoise: undefined }))).rejects.toBeInstanceOf(SamplingError);
    });
  }

  it('dpmpp_2m_sde keeps the marginal std at σ_i when D ≡ 0 (noise is N(0,1) and independent)', async () => {
    // With eta 1 and D = 0 each step maps x ~ N(0, σ²) to (σ'/σ)²·x + σ'·sqrt(1 − (σ'/σ)²)·z ~ N(0, σ'²).
    const n = 4 * 64 * 64;
    const sigmas = karrasSigmas(10, 0.03, 14.6);
    const stds: [number, number][] = [];
    await dpmpp2mSde.sample({
      x: new TorchCpuGenerator(5).randn(n).map((v) => v * sigmas[0]),
      sigmas,
      denoise: async (x) => new Float32Array(x.length),
      noise: () => {
        throw new Error('unused');
      },
      intervalNoise: brownianNoise([99], n),
      onStep: (s) => {
        let sq = 0;
        for (const v of s.x) sq += v * v;
        stds.push([Math.sqrt(sq / n), s.sigma]);
      },
    });
    expect(stds.length).toBe(10);
    for (const [std, sigma] of stds) expect(Math.abs(std / sigma - 1)).toBeLessThan(0.03);
  });
});

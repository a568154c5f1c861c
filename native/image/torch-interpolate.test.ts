// torch F.interpolate modes against A1111's hires-fix latents (sd1-hires: first-pass latent →
// latent_upscaled, computed by torch on CPU), plus the index rules of the nearest modes.
import { describe, expect, it } from 'vitest';
import { hiresCases, hiresTensors } from '../pipelines/test/hires-fixture.js';
import { interpolate, type InterpolateMode } from './torch-interpolate.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('interpolate against torch (sd1-hires latent cases)', () => {
  const latentCases = hiresCases().filter((c) => c.upscale_kind === 'latent');
  it('covers bilinear, bilinear AA, bicubic, bicubic AA and nearest-exact', () => {
    const modes = new Set(latentCases.map((c) => `${c.latent_mode!.mode}${c.latent_mode!.antialias ? '+aa' : ''}`));
    expect([...modes].sort()).toEqual(['bicubic', 'bicubic+aa', 'bilinear', 'bilinear+aa', 'nearest-exact']);
  });
  for (const c of latentCases) {
    it(`${c.name}: ${c.latent_mode!.mode}${c.latent_mode!.antialias ? ' antialias' : ''}`, async () => {
      const t = await hiresTensors(c.name);
      const first = t.get('first.samples')!;
      const want = t.get('latent_upscaled')!;
      const [, planes, h, w] = first.shape as [number, number, number, number];
      const [, , oh, ow] = want.shape as [number, number, number, number];
      const got = interpolate({ data: first.data, planes, h, w }, oh, ow, c.latent_mode!.mode as InterpolateMode, c.latent_mode!.antialias);
      // Same float32 algorithm; torch's vectorised kernels sum in another order (and may fuse
      // multiply-adds), which moves results by a few ulp of values up to ~80 (≤ 5.4e-5 measured).
      // The fixture's float64 rerun moves this latent by up to 7.5e-4.
      expect(maxAbsDiff(got, want.data)).toBeLessThan(1e-4);
    });
  }
});

describe('interpolate index rules', () => {
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
  it('nearest takes floor(dst·in/out), nearest-exact floor((dst+0.5)·in/out)', () => {
    const x = { data: ramp(3), planes: 1, h: 1, w: 3 };
    expect([...interpolate(x, 1, 7, 'nearest')]).toEqual([0, 0, 0, 1, 1, 2, 2]);
    expect([...interpolate(x, 1, 7, 'nearest-exact')]).toEqual([0, 0, 1, 1, 1, 2, 2]);
    expect([...interpolate(x, 1, 2, 'nearest')]).toEqual([0, 1]);
    expect([...interpolate(x, 1, 2, 'nearest-exact')]).toEqual([0, 2]);
  });
  it('bilinear upsampling keeps a linear ramp linear inside and clamps at the edges', () => {
    const x = { data: ramp(4), planes: 1, h: 1, w: 4 };
    expect([...interpolate(x, 1, 8, 'bilinear')]).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  });
  it('antialias weights sum to one: a constant stays constant when downsampling', () => {
    const x = { data: new Float32Array(30).fill(0.5), planes: 1, h: 5, w: 6 };
    for (const v of interpolate(x, 2, 4, 'bicubic', true)) expect(v).toBeCloseTo(0.5, 6);
    for (const v of interpolate(x, 2, 4, 'bilinear', true)) expect(v).toBeCloseTo(0.5, 6);
  });
  it('refuses bad sizes and antialiased nearest', () => {
    const x = { data: ramp(4), planes: 1, h: 2, w: 2 };
    expect(() => interpolate(x, 0, 4, 'bilinear')).toThrow(/positive/);
    expect(() => interpolate(x, 4, 4, 'nearest', true)).toThrow(/antialias/);
  });
});

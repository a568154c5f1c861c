import { describe, expect, it } from 'vitest';
import { createCfgDenoiser, createCfgEps, pickScheduled, plainCfgImages, type CfgImage, type CondTensor } from './cfg.js';
import type { UNetDims, UNetEpsFn } from './denoiser.js';
import { alphasCumprodFromConfig, modelScheduleFromAlphasCumprod, sigmaToT } from './schedules.js';

const DIM = 4;
const H = 2;
const W = 2;
const PER = 4 * H * W;
const schedule = modelScheduleFromAlphasCumprod(alphasCumprodFromConfig({ linear_start: 0.00085, linear_end: 0.012, timesteps: 1000 }));

function cond(tokens: number, base: number): CondTensor {
  return { tokens, data: Float32Array.from({ length: tokens * DIM }, (_, i) => base + 0.001 * i) };
}

/** eps row r = 0.1·x + (t/1000)·mean(context row r) + 0.01·(k mod 7), in float64. */
function epsRow(x: ArrayLike<number>, t: number, ctx: ArrayLike<number>): number[] {
  let m = 0;
  for (let i = 0; i < ctx.length; i++) m += ctx[i];
  m /= ctx.length;
  return Array.from(x, (v, k) => 0.1 * v + (t / 1000) * m + 0.01 * (k % 7));
}

interface Call {
  x: Float32Array;
  t: Float32Array;
  context: Float32Array;
  dims: UNetDims;
}

function fakeUnet(): { unet: UNetEpsFn; calls: Call[] } {
  const calls: Call[] = [];
  const unet: UNetEpsFn = async (x, t, context, dims) => {
    calls.push({ x: x.slice(), t: t.slice(), context: context.slice(), dims });
    const out = new Float32Array(x.length);
    const ctxRow = dims.tokens * DIM;
    for (let r = 0; r < dims.batch; r++) {
      out.set(epsRow(x.subarray(r * PER, (r + 1) * PER), t[r], context.subarray(r * ctxRow, (r + 1) * ctxRow)), r * PER);
    }
    return out;
  };
  return { unet, calls };
}

const x = Float32Array.from({ length: PER }, (_, k) => Math.sin(k) * 3);

/** Independent CompVis denoised for one image: D = x − σ·eps(x/sqrt(σ²+1), t, context). */
function reference(xs: ArrayLike<number>, sigma: number, ctx: CondTensor): number[] {
  const cIn = 1 / Math.sqrt(sigma * sigma + 1);
  const eps = epsRow(Array.from(xs, (v) => v * cIn), sigmaToT(schedule, sigma), ctx.data);
  return Array.from(xs, (v, k) => v - sigma * eps[k]);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i])));
}

describe('CFG denoiser (k-diffusion path)', () => {
  it('runs cond and uncond of equal length in ONE call, cond first, and combines on denoised', async () => {
    const { unet, calls } = fakeUnet();
    const c = cond(77, 0.5);
    const u = cond(77, -0.2);
    const denoise = createCfgDenoiser({ unet, images: plainCfgImages(c, u, 1), cfgScale: 7, contextDim: DIM, h: H, w: W }, schedule);
    const sigma = 4.0860810279846191;
    const out = await denoise(x, sigma, 0);
    expect(calls.length).toBe(1);
    expect(calls[0].dims).toEqual({ batch: 2, h: H, w: W, tokens: 77 });
    expect(Array.from(calls[0].context)).toEqual([...c.data, ...u.data]);
    expect(Array.from(calls[0].t)).toEqual([sigmaToT(schedule, sigma), sigmaToT(schedule, sigma)].map(Math.fround));
    expectClose(calls[0].x.subarray(0, PER), Array.from(x, (v) => v / Math.sqrt(sigma * sigma + 1)));
    const dc = reference(x, sigma, c);
    const du = reference(x, sigma, u);
    expectClose(out, du.map((v, k) => v + (dc[k] - v) * 7));
  });

  it('runs cond (154 tokens) then uncond (77) separately, without padding either', async () => {
    const { unet, calls } = fakeUnet();
    const c = cond(154, 0.3);
    const u = cond(77, 0.1);
    const denoise = createCfgDenoiser({ unet, images: plainCfgImages(c, u, 1), cfgScale: 5, contextDim: DIM, h: H, w: W }, schedule);
    const out = await denoise(x, 1.5, 0);
    expect(calls.map((k) => k.dims)).toEqual([
      { batch: 1, h: H, w: W, tokens: 154 },
      { batch: 1, h: H, w: W, tokens: 77 },
    ]);
    expect(Array.from(calls[0].context)).toEqual(Array.from(c.data));
    expect(Array.from(calls[1].context)).toEqual(Array.from(u.data));
    const dc = reference(x, 1.5, c);
    const du = reference(x, 1.5, u);
    expectClose(out, du.map((v, k) => v + (dc[k] - v) * 5));
  });

  it('picks the prompt-editing entry by denoiser call index, falling back to the first entry', async () => {
    const a = cond(77, 1);
    const b = cond(77, 2);
    const schedule3 = [
      { endAtStep: 2, cond: a },
      { endAtStep: 5, cond: b },
    ];
    const picked = [0, 1, 2, 3, 5, 6, 9].map((step) => pickScheduled(schedule3, step));
    expect(picked).toEqual([a, a, a, b, b, a, a]);

    const { unet, calls } = fakeUnet();
    const images: CfgImage[] = [{ conds: [{ weight: 1, schedule: schedule3 }], uncond: [{ endAtStep: 5, cond: cond(77, 0) }] }];
    const denoise = createCfgDenoiser({ unet, images, cfgScale: 7, contextDim: DIM, h: H, w: W }, schedule);
    await denoise(x, 2, 2);
    await denoise(x, 2, 3);
    expect(calls[0].context[0]).toBeCloseTo(1, 6);
    expect(calls[1].context[0]).toBeCloseTo(2, 6);
  });

  it('handles a batch with per-image conds, AND weights and cond rows of different lengths', async () => {
    const { unet, calls } = fakeUnet();
    const c0a = cond(77, 0.4);
    const c0b = cond(154, -0.3);
    const c1 = cond(77, 0.9);
    const u0 = cond(77, 0.05);
    const u1 = cond(77, -0.05);
    const inf = Number.POSITIVE_INFINITY;
    const images: CfgImage[] = [
      { conds: [{ weight: 1, schedule: [{ endAtStep: inf, cond: c0a }] }, { weight: 0.5, schedule: [{ endAtStep: inf, cond: c0b }] }], uncond: [{ endAtStep: inf, cond: u0 }] },
      { conds: [{ weight: 1, schedule: [{ endAtStep: inf, cond: c1 }] }], uncond: [{ endAtStep: inf, cond: u1 }] },
    ];
    const xb = Float32Array.from({ length: 2 * PER }, (_, k) => Math.cos(k) * 2);
    const out = await createCfgDenoiser({ unet, images, cfgScale: 6, contextDim: DIM, h: H, w: W }, schedule)(xb, 3, 0);
    // Cond rows padded to 154 with their last vector; uncond (77) differs → two calls.
    expect(calls.map((k) => k.dims.batch)).toEqual([3, 2]);
    expect(calls[0].dims.tokens).toBe(154);
    const pad = (c: CondTensor, n: number): CondTensor => {
      const data = new Float32Array(n * DIM);
      data.set(c.data);
      for (let t = c.tokens; t < n; t++) data.set(c.data.subarray((c.tokens - 1) * DIM), t * DIM);
      return { tokens: n, data };
    };
    expect(Array.from(calls[0].context.subarray(0, 154 * DIM))).toEqual(Array.from(pad(c0a, 154).data));
    const x0 = xb.subarray(0, PER);
    const x1 = xb.subarray(PER);
    const du0 = reference(x0, 3, u0);
    const du1 = reference(x1, 3, u1);
    const dc0a = reference(x0, 3, pad(c0a, 154));
    const dc0b = reference(x0, 3, c0b);
    const dc1 = reference(x1, 3, pad(c1, 154));
    const want0 = du0.map((v, k) => v + (dc0a[k] - v) * 6 + (dc0b[k] - v) * 3);
    const want1 = du1.map((v, k) => v + (dc1[k] - v) * 6);
    expectClose(out, [...want0, ...want1]);
  });
});

describe('CFG eps (DDIM path)', () => {
  it('feeds x unscaled with the integer timestep and guides eps', async () => {
    const { unet, calls } = fakeUnet();
    const c = cond(77, 0.5);
    const u = cond(77, -0.5);
    const eps = createCfgEps({ unet, images: plainCfgImages(c, u, 1), cfgScale: 7, contextDim: DIM, h: H, w: W });
    const out = await eps(x, 831, 0);
    expect(calls.length).toBe(1);
    expect(Array.from(calls[0].x.subarray(0, PER))).toEqual(Array.from(x));
    expect(Array.from(calls[0].t)).toEqual([831, 831]);
    const ec = epsRow(x, 831, c.data);
    const eu = epsRow(x, 831, u.data);
    expectClose(out, eu.map((v, k) => v + (ec[k] - v) * 7));
  });
});

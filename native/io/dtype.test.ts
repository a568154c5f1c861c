import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './dtype.js';

describe('f16ToF32', () => {
  it('decodes known half-precision bit patterns', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const out = f16ToF32(Uint16Array.from(cases.map((c) => c[0])));
    expect([...out]).toEqual(cases.map((c) => c[1]));
  });

  it('keeps the sign of zero and NaN-ness', () => {
    const out = f16ToF32(Uint16Array.from([0x8000, 0x7e00, 0xfe01, 0x7c01]));
    expect(Object.is(out[0], -0)).toBe(true);
    expect(out.slice(1).every(Number.isNaN)).toBe(true);
    // payload bits move to the top of the float32 mantissa (read the bits in place: reading a
    // signalling NaN out into a JS number may quiet it)
    expect(new Uint32Array(out.buffer)[3]).toBe(0x7f802000);
  });

  it('writes into a provided output array', () => {
    const out = new Float32Array(3).fill(9);
    const res = f16ToF32(Uint16Array.from([0x3c00, 0x4000]), out);
    expect(res).toBe(out);
    expect([...out]).toEqual([1, 2, 9]);
  });
});

describe('bf16ToF32', () => {
  it('decodes known bfloat16 bit patterns', () => {
    const out = bf16ToF32(Uint16Array.from([0x3f80, 0xc000, 0x7f80, 0xff80, 0x0001, 0x8000, 0x4049]));
    expect([...out.slice(0, 4)]).toEqual([1, -2, Infinity, -Infinity]);
    expect(out[4]).toBe(2 ** -133); // bf16 subnormal = float32 subnormal 0x00010000
    expect(Object.is(out[5], -0)).toBe(true);
    expect(out[6]).toBe(3.140625);
    expect(Number.isNaN(bf16ToF32(Uint16Array.from([0x7fc0]))[0])).toBe(true);
  });
});

describe('f32ToF16', () => {
  it('rounds to nearest, ties to even, with overflow to infinity', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519, 0x7bff], // just below the midpoint to 65536
      [65520, 0x7c00], // midpoint: ties to even = 0x7c00 (inf)
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [0.1, 0x2e66],
      [1 + 2 ** -11, 0x3c00], // tie, stays even
      [1 + 3 * 2 ** -11, 0x3c02], // tie, rounds up to even
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units: even is 2
      [2 ** -25 * 1.5, 0x0001],
      [1023 * 2 ** -24, 0x03ff],
      [(2 ** -14) - 2 ** -25, 0x0400], // rounds up out of the subnormal range
      [1e-10, 0x0000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    const out = f32ToF16(Float32Array.from(cases.map((c) => c[0])));
    expect([...out].map((h) => h.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
  });

  it('keeps -0 and NaN', () => {
    const out = f32ToF16(Float32Array.from([-0, NaN, -NaN]));
    expect(out[0]).toBe(0x8000);
    expect(out[1] & 0x7c00).toBe(0x7c00);
    expect(out[1] & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16ToF32(out)[2])).toBe(true);
  });

  it('round-trips every non-NaN half value exactly', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const isNaN16 = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN16 && back[h] !== h) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('f32ToBf16', () => {
  it('rounds to nearest even and keeps NaN', () => {
    const x = Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, NaN]);
    const out = f32ToBf16(x);
    expect([...out.slice(0, 4)].map((h) => h.toString(16))).toEqual(['3f80', '3f80', '3f82', '3f81']);
    expect(Number.isNaN(bf16ToF32(out)[4])).toBe(true);
  });
});

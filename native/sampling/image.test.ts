import { describe, expect, it } from 'vitest';
import { decodedToUint8, uint8ToUnit } from './image.js';

describe('decodedToUint8', () => {
  it('clamps, scales by 255 in float32 and truncates', () => {
    // One 1×2 image: R = [−1.5, 0], G = [1, 0.999], B = [−0.5, 2].
    const decoded = Float32Array.from([-1.5, 0, 1, 0.999, -0.5, 2]);
    const out = decodedToUint8(decoded, { batch: 1, height: 1, width: 2 });
    // (0+1)/2·255 = 127.5 → 127; (0.999+1)/2·255 = 254.87 → 254; (−0.5+1)/2·255 = 63.75 → 63
    expect(Array.from(out)).toEqual([0, 255, 63, 127, 254, 255]);
  });

  it('lays out a batch as [B,H,W,3]', () => {
    const decoded = new Float32Array(2 * 3 * 1 * 1);
    decoded.set([1, -1, -1], 3); // second image red
    expect(Array.from(decodedToUint8(decoded, { batch: 2, height: 1, width: 1 }))).toEqual([127, 127, 127, 255, 0, 0]);
  });

  it('rejects a wrong size', () => {
    expect(() => decodedToUint8(new Float32Array(5), { batch: 1, height: 1, width: 2 })).toThrow(expect.objectContaining({ code: 'bad_shape' }));
  });
});

describe('uint8ToUnit', () => {
  it('maps 0 → −1 and 255 → 1 and transposes to [B,3,H,W]', () => {
    const rgb = Uint8Array.from([0, 255, 51, 255, 0, 102]); // 1×2 pixels
    const out = uint8ToUnit(rgb, { batch: 1, height: 1, width: 2 });
    expect(out[0]).toBe(-1); // R of pixel 0
    expect(out[1]).toBe(1); // R of pixel 1
    expect(out[2]).toBe(1); // G of pixel 0
    expect(out[3]).toBe(-1);
    expect(out[4]).toBeCloseTo(2 * (51 / 255) - 1, 6);
    expect(out[5]).toBeCloseTo(2 * (102 / 255) - 1, 6);
  });
});

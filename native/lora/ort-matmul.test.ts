import { describe, expect, it } from 'vitest';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { matmul2d, moduleDelta, moduleDeltaWith, type LoraModule } from './lora-math.js';
import { ortMatmul } from './ort-matmul.js';
import { seededValues } from './test/make-lora.js';

describe('ortMatmul', () => {
  it('matches the JS product on a large LoRA delta (1x1 conv) and falls back to JS for small ones', async () => {
    const mm = ortMatmul(await createEngineRuntime({ device: 'cpu' }));
    try {
      const up = { shape: [640, 32, 1, 1], data: seededValues(3, 640 * 32) };
      const down = { shape: [32, 320, 1, 1], data: seededValues(4, 32 * 320) };
      const m: LoraModule = { weights: { kind: 'lora', up, down }, alpha: 16 };
      const want = moduleDelta(m, [640, 320, 1, 1], 0.7);
      const got = await moduleDeltaWith(m, [640, 320, 1, 1], 0.7, 'test', mm);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got[i]));
      expect(diff).toBeLessThan(1e-5);
      expect(want.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.1);
      const small = { shape: [2, 3], data: seededValues(5, 6) };
      const smallB = { shape: [3, 2], data: seededValues(6, 6) };
      expect((await mm(small, smallB)).data).toEqual(matmul2d(small, smallB).data);
    } finally {
      await mm.release();
    }
  });
});

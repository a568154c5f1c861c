import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { SD15_CONFIG } from './config.js';
import { SCHEDULE_BUFFER_NAMES, ddpmScheduleBuffers, torchLinspace64 } from './ddpm-schedule.js';

describe('ddpmScheduleBuffers', () => {
  it('reproduces the fixture checkpoint buffers bit for bit', async () => {
    const f = await SafetensorsFile.open(sd1TinyPath('model.safetensors'));
    try {
      const ours = ddpmScheduleBuffers(SD15_CONFIG.schedule);
      for (const name of SCHEDULE_BUFFER_NAMES) {
        const ref = await f.readFloat32(name);
        const mismatch = ref.findIndex((v, i) => !Object.is(v, ours[name][i]));
        expect(mismatch, `${name}[${mismatch}]`).toBe(-1);
        expect(ours[name].length).toBe(1000);
      }
    } finally {
      await f.close();
    }
  });

  it('torchLinspace64 hits both end points exactly', () => {
    const a = torchLinspace64(0.1, 0.7, 7);
    expect(a[0]).toBe(0.1);
    expect(a[6]).toBe(0.7);
    expect(a[3]).toBeCloseTo(0.4, 15);
    expect([...torchLinspace64(2, 5, 1)]).toEqual([2]);
  });
});

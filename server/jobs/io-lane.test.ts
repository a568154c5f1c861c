import { describe, expect, it } from 'vitest';
import { IoLane } from './io-lane.js';

describe('IoLane', () => {
  it('never runs more tasks than its concurrency and runs them all', async () => {
    const lane = new IoLane(2);
    let active = 0;
    let peak = 0;
    const task = (ms: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, ms));
      active--;
      return ms;
    };
    const results = await Promise.all([5, 10, 1, 7, 3].map((ms) => lane.run(task(ms))));
    expect(results).toEqual([5, 10, 1, 7, 3]);
    expect(peak).toBe(2);
    expect(lane.active).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const lane = new IoLane(1);
    await expect(lane.run(() => Promise.reject(new Error('network down')))).rejects.toThrow('network down');
    await expect(lane.run(async () => 'next')).resolves.toBe('next');
  });

  it('close() aborts running tasks and refuses new ones', async () => {
    const lane = new IoLane(1);
    const running = lane.run((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
    lane.close();
    await expect(running).rejects.toThrow('aborted');
    await expect(lane.run(async () => 1)).rejects.toThrow('closed');
  });
});

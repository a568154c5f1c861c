import { describe, expect, it } from 'vitest';
import { frameStats } from './gallery-scroll.js';

describe('frameStats', () => {
  it('takes the median, nearest-rank p95, max and stutters of 1..100 ms in any order', () => {
    const xs = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    expect(frameStats(xs)).toEqual({ frames: 100, median: 50.5, p95: 95, max: 100, over50: 50 });
  });

  it('counts only intervals strictly over 50 ms, and takes the middle of an odd count', () => {
    expect(frameStats([16.7, 50, 16.6, 51, 16.8])).toEqual({ frames: 5, median: 16.8, p95: 51, max: 51, over50: 1 });
  });

  it('reports zeros for no frames', () => {
    expect(frameStats([])).toEqual({ frames: 0, median: 0, p95: 0, max: 0, over50: 0 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutGrid, nearEnd, visibleRange } from './virtual-grid.js';

describe('virtual grid', () => {
  it('fits columns to the width and fills it', () => {
    const phone = layoutGrid(390, 100, 4, 120);
    expect(phone.columns).toBe(3);
    expect(phone.cell * 3 + 4 * 2).toBeLessThanOrEqual(390);
    expect(phone.cell).toBeGreaterThanOrEqual(120);
    const desktop = layoutGrid(1200, 100, 8, 160);
    expect(desktop.columns).toBe(7);
    expect(layoutGrid(50, 10, 4, 120).columns).toBe(1);
  });

  it('renders only rows near the viewport for 10,000 items', () => {
    const layout = layoutGrid(390, 10_000, 4, 120);
    const r = visibleRange(layout, 10_000, 50_000, 844, 2);
    const rendered = r.end - r.start;
    expect(rendered).toBeLessThan(60);
    expect(r.offsetY).toBe(Math.floor(r.start / layout.columns) * layout.rowHeight);
    expect(r.offsetY).toBeLessThanOrEqual(50_000);
    expect(r.offsetY + (rendered / layout.columns) * layout.rowHeight).toBeGreaterThanOrEqual(50_000 + 844);
  });

  it('always covers the viewport and stays inside the item list', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 2000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 3_000_000 }),
        fc.integer({ min: 100, max: 1500 }),
        (width, count, scroll, height) => {
          const layout = layoutGrid(width, count, 6, 110);
          const top = Math.min(scroll, Math.max(0, layout.totalHeight - height));
          const r = visibleRange(layout, count, top, height, 1);
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeLessThanOrEqual(count);
          if (count === 0) return;
          const firstVisible = Math.floor(top / layout.rowHeight) * layout.columns;
          const lastVisible = Math.min(count - 1, Math.floor((top + height) / layout.rowHeight) * layout.columns);
          expect(r.start).toBeLessThanOrEqual(firstVisible);
          expect(r.end).toBeGreaterThan(lastVisible);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles an empty list', () => {
    expect(visibleRange(layoutGrid(400, 0, 4, 100), 0, 0, 800)).toEqual({ start: 0, end: 0, offsetY: 0 });
  });

  it('says when to load the next page', () => {
    const layout = layoutGrid(400, 60, 4, 100); // 3 columns → 20 rows
    expect(nearEnd(layout, 0, 800, 400)).toBe(false);
    expect(nearEnd(layout, layout.totalHeight - 900, 800, 400)).toBe(true);
  });
});

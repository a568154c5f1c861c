// Geometry of the gallery's virtualised grid: how many columns fit, and which rows are near the
// viewport. Only those rows exist in the DOM, which is what keeps 10,000 thumbnails smooth.

export interface GridLayout {
  columns: number;
  /** Width and height of one square cell, in CSS pixels. */
  cell: number;
  gap: number;
  rowHeight: number;
  rows: number;
  totalHeight: number;
}

/**
 * Fits as many cells of at least `minCell` px as the width allows, then stretches them to fill it.
 *
 * @example layoutGrid(390, 100, 4, 120) // 3 columns of 127 px
 */
export function layoutGrid(width: number, itemCount: number, gap: number, minCell: number): GridLayout {
  const usable = Math.max(0, width);
  const columns = Math.max(1, Math.floor((usable + gap) / (minCell + gap)));
  const cell = Math.max(1, Math.floor((usable - gap * (columns - 1)) / columns));
  const rowHeight = cell + gap;
  const rows = Math.ceil(itemCount / columns);
  return { columns, cell, gap, rowHeight, rows, totalHeight: Math.max(0, rows * rowHeight - gap) };
}

export interface VisibleRange {
  /** First item index to render (inclusive). */
  start: number;
  /** Last item index to render (exclusive). */
  end: number;
  /** Pixel offset of the first rendered row. */
  offsetY: number;
}

/** Items of the rows intersecting the viewport, plus `overscanRows` rows each side. */
export function visibleRange(
  layout: GridLayout,
  itemCount: number,
  scrollTop: number,
  viewportHeight: number,
  overscanRows = 2,
): VisibleRange {
  if (itemCount === 0 || layout.rows === 0) return { start: 0, end: 0, offsetY: 0 };
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscanRows);
  const lastRow = Math.min(layout.rows - 1, Math.floor((scrollTop + Math.max(0, viewportHeight)) / layout.rowHeight) + overscanRows);
  return {
    start: firstRow * layout.columns,
    end: Math.min(itemCount, (lastRow + 1) * layout.columns),
    offsetY: firstRow * layout.rowHeight,
  };
}

/** True when the viewport is within `thresholdPx` of the end: time to load the next page. */
export function nearEnd(layout: GridLayout, scrollTop: number, viewportHeight: number, thresholdPx: number): boolean {
  return scrollTop + viewportHeight >= layout.totalHeight - thresholdPx;
}

//! Windowing for long tables: which rows to render for a scroll position, so a list of 20,000
//! rows keeps only the visible rows (plus a margin) in the DOM. Rows have one fixed height
//! (px); spacer rows of `padTop` / `padBottom` px keep the scroll bar true to the whole list.
//! `needMore` tells a paged list (items fetched page by page) to fetch the next page before the
//! window reaches the end of what is loaded.

/** The rows to render: `start` (inclusive) to `end` (exclusive), with the spacers' heights (px). */
export interface VirtualWindow {
  start: number;
  end: number;
  padTop: number;
  padBottom: number;
}

/** Rows rendered above and below the viewport. */
export const OVERSCAN = 10;

/**
 * The window of `count` rows of `rowHeight` px for a viewport of `viewport` px scrolled to
 * `scrollTop` px (the offset of the table body inside the scroll box already subtracted),
 * with `overscan` extra rows on each side.
 */
export function windowFor(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = OVERSCAN): VirtualWindow {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/** Whether a paged list of `loaded` rows (more on the server when `hasMore`) should fetch the next page for `win`. */
export function needMore(win: VirtualWindow, loaded: number, hasMore: boolean, ahead = OVERSCAN * 4): boolean {
  return hasMore && win.end + ahead >= loaded;
}

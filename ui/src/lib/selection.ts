//! Multi-selection of table rows the way desktop file managers do it: a plain click selects one
//! row and makes it the anchor, Ctrl/Cmd-click toggles one row (and moves the anchor), Shift-click
//! selects the range from the anchor to the row (adding to the selection with Ctrl/Cmd held),
//! Ctrl+A selects all, Escape clears. Pure: every function takes the state and returns a new one,
//! keyed by row id so a refresh that reorders or drops rows keeps what is still there.

/** Selected row ids plus the anchor a Shift-click extends from. */
export interface Selection {
  ids: Set<number>;
  anchor: number | null;
}

export const emptySelection = (): Selection => ({ ids: new Set(), anchor: null });

/** Modifier keys of the click. */
export interface Modifiers {
  shift?: boolean;
  toggle?: boolean;
}

/** Applies a click on row `id` given the visible row order `order`. */
export function clickRow(sel: Selection, order: number[], id: number, mods: Modifiers = {}): Selection {
  if (mods.shift && sel.anchor != null && order.includes(sel.anchor)) {
    const a = order.indexOf(sel.anchor);
    const b = order.indexOf(id);
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const range = order.slice(lo, hi + 1);
    const ids = mods.toggle ? new Set([...sel.ids, ...range]) : new Set(range);
    return { ids, anchor: sel.anchor };
  }
  if (mods.toggle) {
    const ids = new Set(sel.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: id };
  }
  return { ids: new Set([id]), anchor: id };
}

/** Checkbox toggle: like Ctrl-click, but Shift extends from the anchor keeping the rest. */
export function toggleRow(sel: Selection, order: number[], id: number, shift = false): Selection {
  return clickRow(sel, order, id, { shift, toggle: true });
}

export function selectAll(order: number[]): Selection {
  return { ids: new Set(order), anchor: order[0] ?? null };
}

/** Drops ids no longer present (after a refresh); keeps the anchor only if it still exists. */
export function prune(sel: Selection, order: number[]): Selection {
  const present = new Set(order);
  const ids = new Set([...sel.ids].filter((id) => present.has(id)));
  if (ids.size === sel.ids.size && (sel.anchor == null || present.has(sel.anchor))) return sel;
  return { ids, anchor: sel.anchor != null && present.has(sel.anchor) ? sel.anchor : null };
}

/** Selected ids in visible order. */
export function selectedInOrder(sel: Selection, order: number[]): number[] {
  return order.filter((id) => sel.ids.has(id));
}

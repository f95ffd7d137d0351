//! Sorting and filtering of the playlists table: a click on a column header sorts by it
//! (again: reverses), text sorts with the locale's collation (numbers inside titles compare as
//! numbers), missing values (never synced) sort last either way; the filter matches every
//! word of the query, case-insensitively, against title, URL, format and folders.
import type { PlaylistView } from "./api";

export type SortKey = "title" | "format" | "item_count" | "downloaded_count" | "wanted_count" | "last_sync_ms";
export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** The next sort after a click on `key`: same key flips direction; a new key starts ascending (numbers and times descending). */
export function nextSort(current: Sort | null, key: SortKey): Sort {
  if (current?.key === key) return { key, dir: current.dir === 1 ? -1 : 1 };
  return { key, dir: key === "title" || key === "format" ? 1 : -1 };
}

export function sortPlaylists(list: PlaylistView[], sort: Sort | null): PlaylistView[] {
  if (!sort) return list;
  const { key, dir } = sort;
  return [...list].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x == null || y == null) return x == null && y == null ? 0 : x == null ? 1 : -1;
    const c = typeof x === "string" ? collator.compare(x, String(y)) : (x as number) - (y as number);
    return c * dir || a.id - b.id;
  });
}

export function filterPlaylists(list: PlaylistView[], query: string): PlaylistView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return list;
  return list.filter((p) => {
    const hay = [p.title, p.url, p.format ?? "", ...p.folders].join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

//! Unit tests of playlist sorting and filtering: header clicks flip direction, numeric-aware
//! title order, never-synced playlists last both ways, multi-word filter over title/URL/folders.
import { describe, expect, it } from "vitest";
import { playlist } from "../test/fake-backend";
import { filterPlaylists, nextSort, sortPlaylists } from "./table-sort";

const list = [
  playlist(1, { title: "Episode 10 club", last_sync_ms: 3000, item_count: 5 }),
  playlist(2, { title: "episode 9 club", last_sync_ms: null, item_count: 50 }),
  playlist(3, { title: "Alpha", last_sync_ms: 1000, item_count: 7, folders: ["Science"] }),
];
const ids = (l: { id: number }[]) => l.map((p) => p.id);

describe("sorting", () => {
  it("flips direction on the same key and starts numbers descending", () => {
    expect(nextSort(null, "title")).toEqual({ key: "title", dir: 1 });
    expect(nextSort({ key: "title", dir: 1 }, "title")).toEqual({ key: "title", dir: -1 });
    expect(nextSort({ key: "title", dir: 1 }, "item_count")).toEqual({ key: "item_count", dir: -1 });
  });
  it("sorts titles numerically and case-insensitively", () => {
    expect(ids(sortPlaylists(list, { key: "title", dir: 1 }))).toEqual([3, 2, 1]);
  });
  it("puts never-synced playlists last in both directions", () => {
    expect(ids(sortPlaylists(list, { key: "last_sync_ms", dir: -1 }))).toEqual([1, 3, 2]);
    expect(ids(sortPlaylists(list, { key: "last_sync_ms", dir: 1 }))).toEqual([3, 1, 2]);
  });
});

describe("filtering", () => {
  it("matches every word against title, URL and folders", () => {
    expect(ids(filterPlaylists(list, "club 10"))).toEqual([1]);
    expect(ids(filterPlaylists(list, "science"))).toEqual([3]);
    expect(ids(filterPlaylists(list, "feeds.example.test/2"))).toEqual([2]);
    expect(ids(filterPlaylists(list, "  "))).toEqual([1, 2, 3]);
  });
});

//! Covers on the playlists page and in the items pane against the fake backend: a picture
//! arrives as the `data:` URL the shell sends (never a remote URL), a playlist or item without
//! one keeps the neutral tile and is never asked for, a `null` answer or a failed call keeps
//! the tile too (no toast), and each id is asked once, again only after a catalog change when
//! it had none.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "../lib/api";
import { resetArt } from "../lib/art";
import { live } from "../lib/live.svelte";
import { FakeBackend, playlist } from "../test/fake-backend";
import Playlists from "../pages/Playlists.svelte";

const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8oaHBwMDAxMDAwMDAAAAN6gEcJJUQNAAAAABJRU5ErkJggg==";
const JPEG = "data:image/jpeg;base64,/9j/4AAQ";
const noop = async () => {};

let fake: FakeBackend;

beforeEach(() => {
  resetArt();
  fake = new FakeBackend();
  setBackend(fake);
});

const row = (id: number) => document.querySelector<HTMLElement>(`tr[data-id="${id}"]`)!;
const coverOf = (el: HTMLElement) => el.querySelector<HTMLElement>("[data-cover]")!;

describe("covers", () => {
  it("shows each playlist's cover as a data URL and a tile where there is none", async () => {
    fake.playlists = [
      playlist(2, { title: "beta", has_image: true }), // its call fails (first in table order)
      playlist(1, { title: "Alpha", has_image: true }),
      playlist(3, { title: "Gamma", has_image: false }), // names no image: never asked
      playlist(4, { title: "Delta", has_image: true }), // the shell could not use it: null
    ];
    fake.art.set("p1", PNG);
    fake.failNext("playlistArt", "io", "art cache unreadable");
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(coverOf(row(1)).dataset.cover).toBe("image"));
    const img = coverOf(row(1)).querySelector("img")!;
    expect(img.getAttribute("src")).toBe(PNG);
    await waitFor(() => expect(fake.callsOf("playlistArt")).toEqual([[2], [1], [4]]));
    for (const [id, letter] of [[2, "B"], [3, "G"], [4, "D"]] as const) {
      expect(coverOf(row(id)).dataset.cover).toBe("fallback");
      expect(coverOf(row(id)).textContent?.trim()).toBe(letter);
    }
    expect(document.querySelectorAll("img")).toHaveLength(1);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("asks once per id, and again after a catalog change only where there was no picture", async () => {
    fake.playlists = [playlist(1, { has_image: true }), playlist(2, { has_image: true })];
    fake.art.set("p1", PNG);
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(fake.callsOf("playlistArt")).toHaveLength(2));
    fake.art.set("p2", PNG); // a sync brought playlist 2's cover
    live.catalogVersion += 1;
    await waitFor(() => expect(coverOf(row(2)).dataset.cover).toBe("image"));
    expect(fake.callsOf("playlistArt").map((a) => a[0]).sort()).toEqual([1, 2, 2]);
  });

  it("a row reused for another playlist never shows the previous playlist's cover", async () => {
    // rows are virtual and unkeyed: filtering puts playlist 2 in the row that showed 1
    fake.playlists = [playlist(1, { title: "Alpha", has_image: true }), playlist(2, { title: "Beta", has_image: true })];
    fake.art.set("p1", PNG);
    const answer = fake.playlistArt;
    fake.playlistArt = (id: number) => (id === 2 ? new Promise<string | null>(() => {}) : answer(id)); // 2's never comes
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(coverOf(row(1)).dataset.cover).toBe("image"));
    const slot = row(1);
    await fireEvent.input(screen.getByLabelText("Filter playlists"), { target: { value: "Beta" } });
    await waitFor(() => expect(row(1)).toBeNull());
    expect(row(2)).toBe(slot); // the same element, now playlist 2's row
    expect(coverOf(row(2)).dataset.cover).toBe("fallback");
    expect(coverOf(row(2)).textContent?.trim()).toBe("B");
    expect(document.querySelectorAll("tbody img")).toHaveLength(0);
  });

  it("shows item images in the items pane, with the playlist's cover above them", async () => {
    fake.playlists = [playlist(1, { has_image: true })];
    fake.art.set("p1", PNG);
    fake.art.set("i11", JPEG);
    const item = { published_ms: null, status: "not_downloaded" as const, file_path: null, size_bytes: null, error: null, wanted: false, keep: false, removed: false };
    fake.items.set(1, [
      { ...item, id: 11, title: "Has art", has_image: true },
      { ...item, id: 12, title: "No art", has_image: false },
    ]);
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(row(1)).toBeTruthy());
    row(1).click();
    const pane = await screen.findByRole("region", { name: "Items of Playlist 1" });
    const cell = (await within(pane).findByText("Has art")).closest("td")!;
    await waitFor(() => expect(coverOf(cell).querySelector("img")?.getAttribute("src")).toBe(JPEG));
    const other = within(pane).getByText("No art").closest("td")!;
    expect(coverOf(other).dataset.cover).toBe("fallback");
    expect(fake.callsOf("itemArt")).toEqual([[11]]);
    await waitFor(() => expect(coverOf(pane.querySelector("header")!).querySelector("img")?.getAttribute("src")).toBe(PNG));
  });
});

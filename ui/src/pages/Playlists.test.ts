//! Component tests of the playlists page against the fake backend: the empty state, the
//! "sync recommended" hint, click / Shift-click / Ctrl-click / checkbox / Ctrl+A / Escape
//! selection, that the job actions send exactly the selected playlist ids in table order, and
//! the upload actions and the targets menu.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "../lib/api";
import { live } from "../lib/live.svelte";
import { FakeBackend, playlist } from "../test/fake-backend";
import Playlists from "./Playlists.svelte";

let fake: FakeBackend;
const noop = async () => {};

function rows(): HTMLElement[] {
  return screen.getAllByRole("row").filter((r) => r.hasAttribute("data-id"));
}
const selectedIds = () => rows().filter((r) => r.getAttribute("aria-selected") === "true").map((r) => Number(r.dataset.id));

beforeEach(() => {
  fake = new FakeBackend();
  setBackend(fake);
});

async function renderWith(n: number) {
  fake.playlists = Array.from({ length: n }, (_, i) => playlist(i + 1));
  render(Playlists, { onAddUrls: noop, onImportPaths: noop });
  await waitFor(() => expect(rows()).toHaveLength(n));
}

describe("playlists page", () => {
  it("adds with the chosen kind and sets a yt-dlp playlist's format", async () => {
    fake.playlists = [playlist(1), playlist(2, { format: "ytdlp", media: { video: { max_height: 1080 } } })];
    const added: [string[], string | undefined][] = [];
    render(Playlists, { onAddUrls: async (urls: string[], kind?: string) => void added.push([urls, kind]), onImportPaths: noop });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(within(rows()[0]).queryByRole("combobox")).toBeNull();
    const media = within(rows()[1]).getByRole("combobox") as HTMLSelectElement;
    expect(media.value).toBe("1080");
    await fireEvent.change(media, { target: { value: "opus" } });
    await waitFor(() => expect(fake.callsOf("setPlaylistMedia")).toEqual([[2, "audio_opus"]]));
    await fireEvent.change(screen.getByLabelText("Add as"), { target: { value: "ytdlp" } });
    await fireEvent.input(screen.getByLabelText("Feed or playlist URL"), { target: { value: "https://www.youtube.com/@x" } });
    await fireEvent.click(screen.getByRole("button", { name: "Add" }));
    await waitFor(() => expect(added).toEqual([[["https://www.youtube.com/@x"], "ytdlp"]]));
  });

  it("says what to do when there are no playlists", async () => {
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    expect(await screen.findByText("No playlists yet")).toBeTruthy();
    expect(screen.getByText(/Paste a feed URL above, import an OPML file/)).toBeTruthy();
  });

  it("recommends a sync for a playlist with no items that was never synced", async () => {
    fake.playlists = [playlist(1, { item_count: 0, downloaded_count: 0, last_sync_ms: null })];
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    expect(await screen.findByText("0 items, sync recommended")).toBeTruthy();
    expect(screen.getByText("never")).toBeTruthy();
  });

  it("selects with click, shift-click and ctrl-click, and enqueues the selection in order", async () => {
    await renderWith(5);
    const r = rows();
    await fireEvent.click(r[3]);
    await fireEvent.click(r[1], { shiftKey: true });
    expect(selectedIds()).toEqual([2, 3, 4]);
    await fireEvent.click(r[2], { ctrlKey: true });
    expect(selectedIds()).toEqual([2, 4]);
    expect(screen.getByText("2 selected")).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Sync then download" }));
    await waitFor(() => expect(fake.callsOf("enqueueJob")).toEqual([["sync_download", [2, 4]]]));
  });

  it("toggles rows with their checkboxes and extends ranges with shift", async () => {
    await renderWith(4);
    await fireEvent.click(screen.getByLabelText("Select Playlist 1"));
    await fireEvent.click(screen.getByLabelText("Select Playlist 3"), { shiftKey: true });
    expect(selectedIds()).toEqual([1, 2, 3]);
    await fireEvent.click(screen.getByLabelText("Select Playlist 2"));
    expect(selectedIds()).toEqual([1, 3]);
  });

  it("selects all with Ctrl+A, clears with Escape and disables actions without a selection", async () => {
    await renderWith(3);
    const mark = screen.getByRole("button", { name: /Mark wanted/ }) as HTMLButtonElement;
    expect(mark.disabled).toBe(true);
    await fireEvent.keyDown(rows()[0], { key: "a", ctrlKey: true });
    expect(selectedIds()).toEqual([1, 2, 3]);
    await fireEvent.click(mark);
    await waitFor(() => expect(fake.callsOf("setWanted")).toEqual([[[1, 2, 3], true]]));
    await fireEvent.keyDown(rows()[0], { key: "Escape" });
    expect(selectedIds()).toEqual([]);
    expect(mark.disabled).toBe(true);
  });

  it("shows the items of the clicked playlist and closes them with Escape", async () => {
    await renderWith(3);
    fake.items.set(2, [
      { id: 21, title: "Episode 21", published_ms: Date.UTC(2026, 0, 5), status: "downloaded", file_path: "Playlist 2/2026-01-05 Episode 21.mp3", size_bytes: 48_200_000, error: null, wanted: true, has_image: false, keep: false, removed: false },
      { id: 22, title: "Episode 22", published_ms: null, status: "failed", file_path: null, size_bytes: null, error: "HTTP 404 from every source", wanted: true, has_image: false, keep: false, removed: false },
    ]);
    await fireEvent.click(rows()[1]);
    const pane = await screen.findByRole("region", { name: "Items of Playlist 2" });
    await within(pane).findByText("Episode 21");
    expect(within(pane).getByText("Playlist 2/2026-01-05 Episode 21.mp3")).toBeTruthy();
    expect(within(pane).getByText("48.2 MB")).toBeTruthy();
    expect(within(pane).getByText("HTTP 404 from every source")).toBeTruthy();
    expect(within(pane).getByText("Failed")).toBeTruthy();
    expect(fake.callsOf("listItems")).toEqual([[2]]);

    live.catalogIds = [3];
    live.catalogVersion += 1;
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.callsOf("listItems")).toEqual([[2]]);
    live.catalogIds = [2];
    live.catalogVersion += 1;
    await waitFor(() => expect(fake.callsOf("listItems")).toEqual([[2], [2]]));

    await fireEvent.click(rows()[2], { ctrlKey: true });
    expect(screen.getByRole("region", { name: "Items of Playlist 2" })).toBeTruthy();
    await fireEvent.keyDown(rows()[2], { key: "Escape" });
    expect(screen.queryByRole("region", { name: /Items of/ })).toBeNull();
    expect(selectedIds()).toEqual([2, 3]);
  });

  it("turns a playlist's tags and cover art off and on from its items pane", async () => {
    await renderWith(2);
    await fireEvent.click(rows()[1]);
    const pane = await screen.findByRole("region", { name: "Items of Playlist 2" });
    const box = within(pane).getByRole("checkbox", { name: "Tags and cover art" }) as HTMLInputElement;
    expect(box.checked).toBe(true);
    await fireEvent.click(box);
    await waitFor(() => expect(fake.callsOf("setPlaylistTagging")).toEqual([[2, false]]));
    await waitFor(() => expect(box.checked).toBe(false));
    await fireEvent.click(box);
    await waitFor(() => expect(fake.callsOf("setPlaylistTagging")).toEqual([[2, false], [2, true]]));
  });

  it("keeps items, sets the playlist's retention rule and cleans up after a preview", async () => {
    await renderWith(2);
    const base = { published_ms: null, status: "downloaded" as const, size_bytes: 1_000, error: null, wanted: true, has_image: false };
    fake.items.set(2, [
      { ...base, id: 21, title: "Episode 21", file_path: "P/21.mp3", keep: false, removed: false },
      { ...base, id: 22, title: "Episode 22", status: "not_downloaded", file_path: null, keep: false, removed: true },
    ]);
    await fireEvent.click(rows()[1]);
    const pane = await screen.findByRole("region", { name: "Items of Playlist 2" });
    await within(pane).findByText("Deleted by retention");
    await fireEvent.click(within(pane).getByRole("checkbox", { name: "Keep Episode 22" }));
    await waitFor(() => expect(fake.callsOf("setItemKeep")).toEqual([[22, true]]));
    await waitFor(() => expect(within(pane).queryByText("Deleted by retention")).toBeNull());

    const rule = within(pane).getByRole("combobox", { name: "Retention" }) as HTMLSelectElement;
    expect(rule.value).toBe("default");
    await fireEvent.change(rule, { target: { value: "keep_newest" } });
    const count = within(pane).getByRole("textbox", { name: "Episodes to keep" });
    await fireEvent.input(count, { target: { value: "0" } });
    await fireEvent.click(within(pane).getByRole("button", { name: "Apply" }));
    expect(within(pane).getByRole("alert").textContent).toContain("at least 1");
    expect(fake.callsOf("setPlaylistRetention")).toEqual([]);
    await fireEvent.input(count, { target: { value: "3" } });
    await fireEvent.click(within(pane).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(fake.callsOf("setPlaylistRetention")).toEqual([[2, { kind: "keep_newest", count: 3 }]]));

    fake.cleanReport = {
      dry_run: true,
      removed: [{ item: 21, playlist: 2, title: "Episode 21", path: "P/21.mp3", bytes: 1_500_000 }],
      bytes_freed: 1_500_000,
      spared: [{ item: 23, playlist: 2, title: "Episode 23", reason: "marked keep" }],
      finished_pending: 0,
    };
    await fireEvent.click(within(pane).getByRole("button", { name: "Clean up…" }));
    const preview = await within(pane).findByRole("dialog", { name: "Clean up preview" });
    expect(preview.textContent).toContain("P/21.mp3");
    expect(preview.textContent).toContain("freeing 1.50 MB");
    expect(preview.textContent).toContain("Episode 23, marked keep");
    expect(fake.callsOf("cleanLibrary")).toEqual([[[2], true]]);
    await fireEvent.click(within(preview).getByRole("button", { name: "Delete 1 file" }));
    await waitFor(() => expect(fake.callsOf("cleanLibrary")).toEqual([[[2], true], [[2], false]]));
    await waitFor(() => expect(within(pane).queryByRole("dialog")).toBeNull());
  });

  it("sorts by a clicked header and selects ranges in the shown order", async () => {
    fake.playlists = [playlist(1, { item_count: 5 }), playlist(2, { item_count: 50 }), playlist(3, { item_count: 7 })];
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await fireEvent.click(screen.getByRole("button", { name: "Items" }));
    expect(rows().map((r) => Number(r.dataset.id))).toEqual([2, 3, 1]);
    await fireEvent.click(rows()[0]);
    await fireEvent.click(rows()[1], { shiftKey: true });
    await fireEvent.click(screen.getByRole("button", { name: "Sync" }));
    await waitFor(() => expect(fake.callsOf("enqueueJob")).toEqual([["sync_only", [2, 3]]]));
  });

  it("filters rows and acts only on the selected rows still shown", async () => {
    fake.playlists = [playlist(1, { title: "Radiolab" }), playlist(2, { title: "Hardcore History" }), playlist(3, { title: "Radio garden" })];
    render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await fireEvent.keyDown(rows()[0], { key: "a", ctrlKey: true });
    await fireEvent.input(screen.getByLabelText("Filter playlists"), { target: { value: "radio" } });
    expect(rows().map((r) => Number(r.dataset.id))).toEqual([1, 3]);
    expect(screen.getByText("2 selected")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Download" }));
    await waitFor(() => expect(fake.callsOf("enqueueJob")).toEqual([["download_only", [1, 3]]]));
    await fireEvent.input(screen.getByLabelText("Filter playlists"), { target: { value: "nothing like it" } });
    expect(screen.getByText(/No playlist matches/)).toBeTruthy();
  });

  it("moves and extends the selection with the arrow keys", async () => {
    await renderWith(4);
    await fireEvent.click(rows()[0]);
    await fireEvent.keyDown(rows()[0], { key: "ArrowDown" });
    expect(selectedIds()).toEqual([2]);
    await fireEvent.keyDown(rows()[1], { key: "ArrowDown", shiftKey: true });
    expect(selectedIds()).toEqual([2, 3]);
  });

  it("queues uploads of the selection and assigns upload targets", async () => {
    fake.targets = [
      { name: "nas", kind: "webdav", location: "http://nas", root: "/", username: null, bucket: null, region: null, key_path: null, known_hosts: null, has_password: true, mirror: false, m3u_crlf: false, playlists: [1] },
    ];
    await renderWith(3);
    await fireEvent.click(rows()[1]);
    await fireEvent.click(rows()[2], { shiftKey: true });
    await fireEvent.click(screen.getByRole("button", { name: "Upload" }));
    await waitFor(() => expect(fake.callsOf("enqueueUpload")).toEqual([["upload_only", [2, 3], []]]));
    await fireEvent.click(screen.getByRole("button", { name: "Download then upload" }));
    await waitFor(() => expect(fake.callsOf("enqueueUpload")[1]).toEqual(["download_upload", [2, 3], []]));

    const menu = screen.getByTestId("targets-menu");
    const box = within(menu).getByRole("checkbox") as HTMLInputElement;
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await waitFor(() => expect(fake.callsOf("setPlaylistTargets")).toEqual([[2, ["nas"]], [3, ["nas"]]]));
    await waitFor(() => expect((within(menu).getByRole("checkbox") as HTMLInputElement).checked).toBe(true));
  });

  it("renders only a window of 20,000 playlists and moves it as the table scrolls", async () => {
    fake.playlists = Array.from({ length: 20_000 }, (_, i) => playlist(i + 1));
    const { container } = render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    expect(rows().length).toBeLessThan(100);
    expect(fake.callsOf("listPlaylists").length).toBe(20); // 1,000 a page
    const box = container.querySelector(".tablewrap") as HTMLElement;
    box.scrollTop = 35 * 10_000; // rows are 35 px until measured (jsdom lays nothing out)
    await fireEvent.scroll(box);
    await waitFor(() => expect(rows()[0].dataset.id).toBe("9991"));
    expect(rows().length).toBeLessThan(100);
    // the spacers keep the whole list's height
    const pads = [...container.querySelectorAll("tr.vpad td")].map((td) => parseFloat((td as HTMLElement).style.height));
    expect(pads.reduce((a, b) => a + b, 0) + rows().length * 35).toBe(20_000 * 35);
  });

  it("fetches the next page of items as the items pane scrolls near the end of what is loaded", async () => {
    fake.playlists = [playlist(1)];
    fake.items.set(1, Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, title: `Episode ${i + 1}`, published_ms: null, status: "not_downloaded" as const, file_path: null, size_bytes: null, error: null, wanted: false, has_image: false, keep: false, removed: false })));
    const { container } = render(Playlists, { onAddUrls: noop, onImportPaths: noop });
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.click(rows()[0]);
    const pane = await screen.findByRole("region", { name: "Items of Playlist 1" });
    await within(pane).findByText("Episode 1");
    expect(fake.callsOf("listItems")).toHaveLength(1); // the first page (200) covers the window
    expect(within(pane).queryByText("Episode 150")).toBeNull();
    const box = container.querySelector(".items .scroll") as HTMLElement;
    box.scrollTop = 33 * 190;
    await fireEvent.scroll(box);
    await within(pane).findByText("Episode 190");
    await waitFor(() => expect(fake.callsOf("listItems")).toHaveLength(2));
    box.scrollTop = 33 * 390;
    await fireEvent.scroll(box);
    await within(pane).findByText("Episode 395");
    expect(within(pane).queryByText("Episode 1")).toBeNull();
  });
});


//! Component tests of the window: Ctrl+1/2/3 switch pages, and a native file drop imports each
//! dropped path and returns to the playlists page, while a drag shows the drop hint.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "./lib/api";
import { FakeBackend, playlist } from "./test/fake-backend";
import { toasts } from "./lib/toasts.svelte";
import App from "./App.svelte";

let fake: FakeBackend;

beforeEach(() => {
  toasts.length = 0;
  fake = new FakeBackend();
  setBackend(fake);
});

const heading = () => screen.getByRole("heading", { level: 1 }).textContent;

describe("app window", () => {
  it("switches pages with Ctrl+1/2/3", async () => {
    render(App);
    expect(heading()).toBe("Playlists");
    await fireEvent.keyDown(window, { key: "2", ctrlKey: true });
    expect(heading()).toBe("Task center");
    await fireEvent.keyDown(window, { key: "3", ctrlKey: true });
    expect(heading()).toBe("Settings");
    await fireEvent.keyDown(window, { key: "1", ctrlKey: true });
    expect(heading()).toBe("Playlists");
  });

  it("keeps unsaved settings across a page switch and saves with Ctrl+S only on the settings page", async () => {
    render(App);
    await fireEvent.keyDown(window, { key: "3", ctrlKey: true });
    const input = (await screen.findByLabelText("Parallel downloads")) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "9" } });
    await fireEvent.keyDown(window, { key: "1", ctrlKey: true });
    await fireEvent.keyDown(window, { key: "s", ctrlKey: true });
    expect(fake.callsOf("saveSettings")).toEqual([]);
    await fireEvent.keyDown(window, { key: "3", ctrlKey: true });
    expect((screen.getByLabelText("Parallel downloads") as HTMLInputElement).value).toBe("9");
    await fireEvent.keyDown(window, { key: "s", ctrlKey: true });
    await waitFor(() => expect(fake.callsOf("saveSettings")).toHaveLength(1));
    expect((fake.callsOf("saveSettings")[0][0] as { parallel_downloads: number }).parallel_downloads).toBe(9);
  });

  it("closes the newest toast with Escape once nothing else uses the key", async () => {
    fake.playlists = [playlist(1)];
    render(App);
    const row = await screen.findByText("Playlist 1");
    await fireEvent.click(row);
    fake.failNext("enqueueJob", "in_use", "catalog.redb is open in another process");
    await fireEvent.click(screen.getByRole("button", { name: "Sync" }));
    expect(await screen.findByText("The catalog is in use")).toBeTruthy();
    await fireEvent.keyDown(window, { key: "Escape" }); // closes the items pane
    expect(screen.getByText("The catalog is in use")).toBeTruthy();
    await fireEvent.keyDown(window, { key: "Escape" }); // clears the selection
    expect(screen.getByText("The catalog is in use")).toBeTruthy();
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByText("The catalog is in use")).toBeNull();
  });

  it("adds a dragged link as a playlist URL", async () => {
    render(App);
    const data: Record<string, string> = { "text/uri-list": "https://feeds.example.test/show.xml\r\n", "text/plain": "ignored" };
    const dataTransfer = { types: Object.keys(data), getData: (t: string) => data[t] ?? "" };
    await fireEvent.dragOver(window, { dataTransfer });
    expect(await screen.findByText(/Drop a feed URL or a playlist file/)).toBeTruthy();
    await fireEvent.drop(window, { dataTransfer });
    await waitFor(() => expect(fake.callsOf("addPlaylistsAs")).toEqual([[["https://feeds.example.test/show.xml"], "auto", null]]));
    expect(screen.queryByText(/Drop a feed URL or a playlist file/)).toBeNull();
  });

  it("imports dropped files and shows the drop hint while dragging", async () => {
    render(App);
    await fireEvent.keyDown(window, { key: "3", ctrlKey: true });
    await waitFor(() => expect(fake.callsOf("taskCenter").length).toBeGreaterThan(0));
    fake.emitFileDrag({ type: "over" });
    expect(await screen.findByText(/Drop a feed URL or a playlist file/)).toBeTruthy();
    fake.emitFileDrag({ type: "drop", paths: ["/home/ann/subs.opml", "/home/ann/mix.m3u"] });
    await waitFor(() => expect(fake.callsOf("importFile")).toEqual([["/home/ann/subs.opml"], ["/home/ann/mix.m3u"]]));
    expect(heading()).toBe("Playlists");
    expect(screen.queryByText(/Drop a feed URL or a playlist file/)).toBeNull();
  });
});

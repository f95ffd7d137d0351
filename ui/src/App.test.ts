//! Component tests of the window: Ctrl+1/2/3 switch pages, and a native file drop imports each
//! dropped path and returns to the playlists page, while a drag shows the drop hint.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "./lib/api";
import { FakeBackend } from "./test/fake-backend";
import App from "./App.svelte";

let fake: FakeBackend;

beforeEach(() => {
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

  it("adds a dragged link as a playlist URL", async () => {
    render(App);
    const data: Record<string, string> = { "text/uri-list": "https://feeds.example.test/show.xml\r\n", "text/plain": "ignored" };
    const dataTransfer = { types: Object.keys(data), getData: (t: string) => data[t] ?? "" };
    await fireEvent.dragOver(window, { dataTransfer });
    expect(await screen.findByText(/Drop a feed URL or a playlist file/)).toBeTruthy();
    await fireEvent.drop(window, { dataTransfer });
    await waitFor(() => expect(fake.callsOf("addPlaylists")).toEqual([[["https://feeds.example.test/show.xml"]]]));
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

//! Component tests of the settings form against the fake backend: invalid fields show their
//! messages and nothing is saved; valid edits are saved in the core's units (ms, bytes/s);
//! a backend rejection surfaces as an error toast titled by its code.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "../lib/api";
import { toasts } from "../lib/toasts.svelte";
import { FakeBackend, settings } from "../test/fake-backend";
import Settings from "./Settings.svelte";

let fake: FakeBackend;

beforeEach(() => {
  fake = new FakeBackend();
  fake.stored = settings();
  setBackend(fake);
  toasts.length = 0;
});

async function field(label: string | RegExp): Promise<HTMLInputElement> {
  return (await screen.findByLabelText(label)) as HTMLInputElement;
}

describe("settings form", () => {
  it("shows the yt-dlp in use and its version", async () => {
    render(Settings);
    await waitFor(() => expect(screen.getByTestId("ytdlp").textContent).toContain("2026.10.26"));
  });

  it("shows the next auto-sync run, and that it is off", async () => {
    fake.stored = settings({ auto_sync_hours: 6 });
    const { unmount } = render(Settings);
    await waitFor(() => expect(screen.getByTestId("next-run").textContent).toMatch(/Next run \d{4}-\d{2}-\d{2} \d{2}:\d{2}/));
    unmount();
    fake.stored = settings({ auto_sync_hours: null });
    render(Settings);
    await waitFor(() => expect(screen.getByTestId("next-run").textContent).toContain("Auto-sync is off"));
  });

  it("offers to update a yt-dlp installed in a user location and shows the result", async () => {
    render(Settings);
    await fireEvent.click(await screen.findByRole("button", { name: "Update yt-dlp" }));
    await waitFor(() => expect(screen.getByTestId("ytdlp-update").textContent).toContain("Updated yt-dlp from 2026.10.26 to 2026.11.20 (/home/ann/.local/bin/pipx upgrade yt-dlp)"));
    await waitFor(() => expect(screen.getByTestId("ytdlp").textContent).toContain("2026.11.20"));
    expect(fake.callsOf("updateYtdlp")).toHaveLength(1);
  });

  it("does not offer an update for a system-wide yt-dlp and says so; a failed update shows why", async () => {
    fake.ytdlpInstall = { kind: "system", update_command: null, note: "installed system-wide at /usr/bin/yt-dlp: update it with the package manager" };
    const { unmount } = render(Settings);
    await waitFor(() => expect(screen.getByTestId("ytdlp-install").textContent).toContain("installed system-wide"));
    expect(screen.queryByRole("button", { name: "Update yt-dlp" })).toBeNull();
    unmount();
    fake.ytdlpInstall = { kind: "standalone", update_command: ["/home/ann/bin/yt-dlp", "-U"], note: "standalone binary" };
    render(Settings);
    fake.failNext("updateYtdlp", "network", "`/home/ann/bin/yt-dlp -U` failed: ERROR: Unable to obtain version info");
    await fireEvent.click(await screen.findByRole("button", { name: "Update yt-dlp" }));
    await waitFor(() => expect(screen.getByTestId("ytdlp-update").textContent).toContain("Unable to obtain version info"));
  });

  it("shows an error per invalid field and does not save", async () => {
    render(Settings);
    await fireEvent.input(await field("Parallel downloads"), { target: { value: "0" } });
    await fireEvent.input(await field("File names"), { target: { value: "{playlist}/{episode}.{ext}" } });
    await fireEvent.input(await field("Agent endpoint"), { target: { value: "localhost:11434" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Parallel downloads must be between 1 and 64")).toBeTruthy();
    expect(screen.getByText(/Unknown placeholder \{episode\}/)).toBeTruthy();
    expect(screen.getByText(/Enter an http:\/\/ or https:\/\/ address/)).toBeTruthy();
    expect((await field("Parallel downloads")).getAttribute("aria-invalid")).toBe("true");
    expect(fake.callsOf("saveSettings")).toEqual([]);
  });

  it("saves valid edits converted to the core's units", async () => {
    render(Settings);
    await fireEvent.input(await field("Parallel downloads"), { target: { value: "8" } });
    await fireEvent.input(await field("Bandwidth limit"), { target: { value: "2.5" } });
    await fireEvent.input(await field("Stalled transfer"), { target: { value: "45" } });
    await fireEvent.click(screen.getByRole("button", { name: /Add folder/ }));
    await screen.findByText("/mnt/big/podcasts");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(fake.callsOf("saveSettings")).toHaveLength(1));
    const saved = fake.callsOf("saveSettings")[0][0] as ReturnType<typeof settings>;
    expect(saved.parallel_downloads).toBe(8);
    expect(saved.bandwidth_limit_bytes_per_sec).toBe(2_500_000);
    expect(saved.stall_timeout_ms).toBe(45_000);
    expect(saved.overflow_libraries).toEqual(["/mnt/big/podcasts"]);
    expect(saved.transfer_deadline_ms).toBe(14_400_000);
    expect(toasts.map((t) => t.title)).toContain("Settings saved");
  });

  it("saves the default retention rule and the notification choice, refusing a count of 0", async () => {
    render(Settings);
    const kind = (await field("Downloaded episodes")) as unknown as HTMLSelectElement;
    expect(kind.value).toBe("keep_all");
    await fireEvent.change(kind, { target: { value: "keep_newest" } });
    const count = await field("Episodes to keep");
    await fireEvent.input(count, { target: { value: "0" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("Keep at least 1 episode (a whole number)");
    expect(fake.callsOf("saveSettings")).toEqual([]);
    await fireEvent.input(count, { target: { value: "5" } });
    await fireEvent.change(await field("Notify"), { target: { value: "failures" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(fake.callsOf("saveSettings")).toHaveLength(1));
    const saved = fake.callsOf("saveSettings")[0][0] as ReturnType<typeof settings>;
    expect(saved.retention).toEqual({ kind: "keep_newest", count: 5 });
    expect(saved.notify).toBe("failures");
  });

  it("shows the backend's rejection as an error toast", async () => {
    render(Settings);
    await field("Parallel downloads");
    fake.failNext("saveSettings", "io", "library folder is not writable");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(toasts).toHaveLength(1));
    expect(toasts[0]).toMatchObject({ kind: "error", title: "File system error", detail: "library folder is not writable" });
  });

  it("previews renames after the saved template, then queues the organize job", async () => {
    fake.renames = [{ item: 1, title: "Ep 1", from: "Show/2024-01-01 Ep 1.mp3", to: "Shows/Show/Ep 1.mp3" }];
    render(Settings);
    const template = await field("File names");
    await fireEvent.input(template, { target: { value: "Shows/{playlist}/{title}.{ext}" } });
    const preview = screen.getByRole("button", { name: "Preview renames" }) as HTMLButtonElement;
    expect(preview.disabled, "unsaved template: save first").toBe(true);
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(fake.callsOf("saveSettings")).toHaveLength(1));
    await waitFor(() => expect(preview.disabled).toBe(false));
    await fireEvent.click(preview);
    const list = await screen.findByRole("list", { name: "Planned renames" });
    expect(list.textContent).toContain("Show/2024-01-01 Ep 1.mp3 → Shows/Show/Ep 1.mp3");
    expect(fake.callsOf("organize")).toHaveLength(0);
    await fireEvent.click(screen.getByRole("button", { name: "Rename" }));
    await waitFor(() => expect(fake.callsOf("organize")).toHaveLength(1));
    expect(toasts.map((t) => t.title)).toContain("Renaming 1 files");
  });
});

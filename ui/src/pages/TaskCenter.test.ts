//! Component tests of the task center against the fake backend: a job row expands inline to
//! its stages, workers and runs and collapses again (mouse and keyboard), an expanded row
//! re-reads its detail when the shell reports a change, and the row's actions send the job
//! command for that job.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setBackend } from "../lib/api";
import { live, startLive } from "../lib/live.svelte";
import { FakeBackend, job } from "../test/fake-backend";
import TaskCenter from "./TaskCenter.svelte";

let fake: FakeBackend;
let stop: () => void;

beforeEach(async () => {
  fake = new FakeBackend();
  fake.setJobs([job(7), job(8, { status: "queued", queue_label: "queued #1", can_pause: false, percent: null, speed_bps: 0, active_workers: 0, display_name: "Sync" })]);
  setBackend(fake);
  live.taskCenter = null;
  live.events = [];
  stop = await startLive();
});

afterEach(() => stop());

const jobRow = (id: number) => screen.getAllByRole("row").find((r) => r.classList.contains("job") && r.textContent?.includes(`#${id}`))!;

describe("task center", () => {
  it("lists jobs with lane, queue label, scope and speed", async () => {
    render(TaskCenter);
    const row = await waitFor(() => jobRow(8));
    expect(within(row).getByText("queued #1")).toBeTruthy();
    expect(within(jobRow(7)).getByText("1.50 MB/s")).toBeTruthy();
    expect(within(jobRow(7)).getByText("2 playlists")).toBeTruthy();
  });

  it("shows a failed job's last error on its row", async () => {
    fake.setJobs([job(9, { status: "failed", can_retry: true, can_pause: false, can_cancel: false, last_error: "attempt 3/3, transient: HTTP 503 from http://h/a.mp3" })]);
    fake.emitTaskCenterChanged();
    render(TaskCenter);
    const row = await waitFor(() => jobRow(9) ?? Promise.reject(new Error("no row of job 9")));
    expect(within(row).getByText(/^attempt 3\/3, transient: HTTP 503 from http:\/\/h\/a.mp3$/)).toBeTruthy();
  });

  it("expands a row inline to stages, workers and runs, and collapses it", async () => {
    render(TaskCenter);
    const row = await waitFor(() => jobRow(7));
    expect(row.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(row);
    expect(row.getAttribute("aria-expanded")).toBe("true");
    expect(await screen.findByText("download-1")).toBeTruthy();
    expect(screen.getByText("resolve-1")).toBeTruthy();
    expect(screen.getByText("job-7-run-1")).toBeTruthy();
    expect(screen.getByText("HTTP 404 from every source")).toBeTruthy();
    expect(screen.getByText("10 s left")).toBeTruthy();
    expect(fake.callsOf("jobDetail")).toEqual([[7]]);

    await fireEvent.keyDown(row, { key: "ArrowLeft" });
    expect(row.getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByText("download-1")).toBeNull();
    await fireEvent.keyDown(row, { key: "Enter" });
    expect(await screen.findByText("download-1")).toBeTruthy();
  });

  it("re-reads an expanded job's detail when the task center changes", async () => {
    render(TaskCenter);
    await fireEvent.click(await waitFor(() => jobRow(7)));
    await screen.findByText("download-1");
    const before = fake.callsOf("jobDetail").length;
    fake.emitTaskCenterChanged();
    await waitFor(() => expect(fake.callsOf("jobDetail").length).toBeGreaterThan(before), { timeout: 2000 });
  });

  it("sends pause and cancel for the row's job without expanding it", async () => {
    render(TaskCenter);
    const row = await waitFor(() => jobRow(7));
    await fireEvent.click(within(row).getByRole("button", { name: "Pause job 7" }));
    await fireEvent.click(within(row).getByRole("button", { name: "Cancel job 7" }));
    await waitFor(() => expect(fake.callsOf("jobCommand")).toEqual([[7, "pause"], [7, "cancel"]]));
    expect(within(jobRow(7)).queryByRole("button", { name: "Retry failed items of job 7" })).toBeNull();
    expect(row.getAttribute("aria-expanded")).toBe("false");
    expect(within(jobRow(8)).queryByRole("button", { name: "Pause job 8" })).toBeNull();
  });
});

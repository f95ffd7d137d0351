//! Unit tests of the live state: a task-center event re-reads the task center (and records job
//! status changes as recent events), a job-ended event bumps the catalog version, adds a recent
//! event and a toast, and nothing is read without an event (no polling).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setBackend } from "./api";
import { live, startLive } from "./live.svelte";
import { toasts } from "./toasts.svelte";
import { FakeBackend, job } from "../test/fake-backend";

let fake: FakeBackend;
let stop: () => void;

beforeEach(async () => {
  fake = new FakeBackend();
  fake.setJobs([job(3, { status: "queued" })]);
  setBackend(fake);
  live.taskCenter = null;
  live.events = [];
  toasts.length = 0;
  stop = await startLive();
});

afterEach(() => stop());

describe("live state", () => {
  it("reads once at start and then only on events", async () => {
    expect(fake.callsOf("taskCenter")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.callsOf("taskCenter")).toHaveLength(1);
    fake.setJobs([job(3, { status: "running" })]);
    fake.emitTaskCenterChanged();
    await vi.waitFor(() => expect(live.taskCenter?.jobs[0].status).toBe("running"));
    expect(live.events.map((e) => e.text)).toEqual(["Sync and download #3 started"]);
  });

  it("turns a failed job into an event, a toast and a catalog refresh", async () => {
    const version = live.catalogVersion;
    fake.emitJobEnded({ job_id: 3, display_name: "Sync and download", status: "failed", message: "2 of 40 items failed" });
    expect(live.catalogVersion).toBe(version + 1);
    expect(live.events[0]).toMatchObject({ kind: "error", text: "Sync and download #3 failed: 2 of 40 items failed" });
    expect(toasts[0]).toMatchObject({ kind: "error", title: "Sync and download #3 failed" });
  });
});

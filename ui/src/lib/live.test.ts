//! Unit tests of the live state: the task center comes from the pushed event payload (no
//! re-read), activity lines and job ends become recent events (a failure also a toast and a
//! catalog refresh), throughput samples are appended, and nothing is read without an event.
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
  live.throughput = [];
  toasts.length = 0;
  stop = await startLive();
});

afterEach(() => stop());

describe("live state", () => {
  it("reads once at start, then takes the task center from the events", async () => {
    expect(fake.callsOf("taskCenter")).toHaveLength(1);
    expect(fake.callsOf("throughputHistory")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    fake.setJobs([job(3, { status: "running" })]);
    fake.emitTaskCenterChanged();
    expect(live.taskCenter?.jobs[0].status).toBe("running");
    expect(fake.callsOf("taskCenter")).toHaveLength(1);
  });

  it("turns a failed job into an event, a toast and a catalog refresh", () => {
    const version = live.catalogVersion;
    fake.emitJobFinished({ job: 3, status: "failed" });
    expect(live.catalogVersion).toBe(version + 1);
    expect(live.events[0]).toMatchObject({ kind: "error", text: "Sync and download #3 failed" });
    expect(toasts[0]).toMatchObject({ kind: "error", title: "Sync and download #3 failed" });
  });

  it("keeps activity lines newest first and appends throughput samples", () => {
    fake.emitActivity([
      { at_ms: 1000, job: 3, level: "info", text: "download-1: downloading Episode 1" },
      { at_ms: 2000, job: 3, level: "error", text: "Episode 2: HTTP 404" },
    ]);
    expect(live.events.map((e) => [e.kind, e.text])).toEqual([
      ["error", "#3 Episode 2: HTTP 404"],
      ["info", "#3 download-1: downloading Episode 1"],
    ]);
    fake.emitThroughput({ t_ms: Date.now(), bytes_per_sec: 2_000_000 });
    expect(live.throughput).toHaveLength(1);
  });

  it("bumps the catalog version once for a burst of catalog events", async () => {
    const version = live.catalogVersion;
    fake.emitCatalogChanged([1]);
    fake.emitCatalogChanged([2]);
    fake.emitCatalogChanged([3]);
    expect(live.catalogVersion).toBe(version + 1);
    expect(live.catalogIds).toEqual([1]);
    // the trailing bump publishes the ids that arrived inside the throttle window
    await vi.waitFor(() => expect(live.catalogVersion).toBe(version + 2), { timeout: 3000 });
    expect(live.catalogIds).toEqual([2, 3]);
  });
});

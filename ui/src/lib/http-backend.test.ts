//! Unit tests of the browser backend (`catalog-sync serve`): it is the default outside Tauri,
//! routes map to the server's paths and bodies, a wire error body becomes an `ApiError` with its
//! code, a server that does not answer is code `ipc`, and live events are listened to by the
//! desktop's names on one shared `EventSource`.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "./api";
import { httpBackend } from "./http-backend";

type Sent = { url: string; method: string; body?: unknown };

function fakeFetch(reply: (s: Sent) => { status: number; body?: unknown }) {
  const sent: Sent[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    const s: Sent = { url, method: init.method ?? "GET", body: typeof init.body === "string" ? JSON.parse(init.body) : init.body };
    sent.push(s);
    const r = reply(s);
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status });
  });
  return sent;
}

class FakeEventSource {
  static instances: FakeEventSource[] = [];
  static CLOSED = 2;
  readyState = 1;
  listeners = new Map<string, Set<(e: MessageEvent) => void>>();
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(name: string, fn: (e: MessageEvent) => void) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name)!.add(fn);
  }
  removeEventListener(name: string, fn: (e: MessageEvent) => void) {
    this.listeners.get(name)?.delete(fn);
  }
  close() {
    this.readyState = 2;
  }
  emit(name: string, data: unknown) {
    for (const fn of this.listeners.get(name) ?? []) fn(new MessageEvent(name, { data: JSON.stringify(data) }));
  }
}

beforeEach(() => {
  FakeEventSource.instances = [];
  vi.stubGlobal("EventSource", FakeEventSource);
});
afterEach(() => vi.unstubAllGlobals());

describe("http backend", () => {
  it("is the backend outside Tauri, with the browser's replacements for dialogs", () => {
    expect(api()).toBe(httpBackend);
    expect(api().web?.exportUrl).toBe("/api/opml");
  });

  it("maps the organize operations to their routes", async () => {
    const sent = fakeFetch(() => ({ status: 200, body: 5 }));
    await httpBackend.organizePreview();
    await httpBackend.organize();
    expect(sent.map((s) => [s.method, s.url, s.body])).toEqual([
      ["GET", "/api/organize", undefined],
      ["POST", "/api/organize", undefined],
    ]);
  });

  it("maps the upload operations to their routes", async () => {
    const sent = fakeFetch(() => ({ status: 200, body: 5 }));
    await httpBackend.enqueueUpload("download_upload", [4], ["nas"]);
    await httpBackend.setPlaylistTargets(4, ["nas", "usb stick"]);
    await httpBackend.testTarget("usb stick");
    await httpBackend.removeTarget("a/b");
    await httpBackend.listTargets();
    expect(sent.map((s) => [s.method, s.url, s.body])).toEqual([
      ["POST", "/api/uploads", { kind: "download_upload", playlist_ids: [4], targets: ["nas"] }],
      ["PUT", "/api/playlists/4/targets", { targets: ["nas", "usb stick"] }],
      ["POST", "/api/targets/usb%20stick/test", undefined],
      ["DELETE", "/api/targets/a%2Fb", undefined],
      ["GET", "/api/targets", undefined],
    ]);
  });

  it("calls the routes with snake_case bodies", async () => {
    const sent = fakeFetch(() => ({ status: 200, body: 7 }));
    expect(await httpBackend.enqueueJob("sync_download", [1, 2])).toBe(7);
    await httpBackend.setWanted([3], true);
    await httpBackend.jobCommand(7, "pause");
    expect(sent).toEqual([
      { url: "/api/jobs", method: "POST", body: { kind: "sync_download", playlist_ids: [1, 2] } },
      { url: "/api/wanted", method: "PUT", body: { playlist_ids: [3], wanted: true } },
      { url: "/api/jobs/7/command", method: "POST", body: { action: "pause" } },
    ]);
  });

  it("turns wire errors into ApiErrors by code, and no answer into ipc", async () => {
    fakeFetch(() => ({ status: 401, body: { code: "unauthorized", message: "log in" } }));
    await expect(httpBackend.taskCenter()).rejects.toMatchObject({ code: "unauthorized", message: "log in" });
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    const err = await httpBackend.listPlaylists().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe("ipc");
  });

  it("listens by the desktop's event names on one EventSource, closed with the last listener", async () => {
    const tcs: unknown[] = [];
    const samples: unknown[] = [];
    const un1 = await httpBackend.onTaskCenterChanged((tc) => tcs.push(tc));
    const un2 = await httpBackend.onThroughput((p) => samples.push(p));
    expect(FakeEventSource.instances.map((e) => e.url)).toEqual(["/api/events"]);
    const es = FakeEventSource.instances[0];
    es.emit("task-center-changed", { version: 1, task_center: { jobs: [] } });
    es.emit("throughput-sampled", { t_ms: 5, bytes_per_sec: 9 });
    expect(tcs).toEqual([{ jobs: [] }]);
    expect(samples).toEqual([{ t_ms: 5, bytes_per_sec: 9 }]);
    un1();
    expect(es.readyState).toBe(1);
    un2();
    expect(es.readyState).toBe(2);
  });
});
